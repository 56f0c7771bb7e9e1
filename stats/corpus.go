package stats

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/chimed/chimed/internal/ngram"
	"github.com/chimed/chimed/schemas"
)

// CorpusStats describes clean/ and removed/ row by row, the way data
// curation tools report a run: quality distributions of what was kept,
// what it covers, which rows duplicate which, and sample rows per
// removal reason.
type CorpusStats struct {
	// Kinds has the quality distributions of each kind of clean/ row.
	Kinds []KindQuality `json:"kinds"`
	// Coverage counts clean rows per category or department, per kind.
	Coverage []Coverage `json:"coverage"`
	// NearClusters are the sizes of near-duplicate clusters of two rows or
	// more: the kept rows sharing a cluster id plus the rows removed as
	// near duplicates of it. ExactGroups are the sizes of exact-duplicate
	// groups: a kept row and the rows removed as its copies.
	NearClusters Histogram `json:"near_clusters"`
	ExactGroups  Histogram `json:"exact_groups"`
	// Largest lists the biggest near-duplicate clusters.
	Largest []Cluster `json:"largest_clusters"`
	// Matrices say, per removal reason that names a matched row
	// (duplicate, near_duplicate, contaminated), how many rows of each
	// source were removed as matching a row of each other source.
	Matrices []DupMatrix `json:"duplicate_matrices"`
	// Removed holds, per removal reason, its count and sample rows.
	Removed []ReasonSamples `json:"removed"`
	// Perplexity is the held-out perplexity of kept rows under a
	// reference model trained on the rest; nil when no row was sampled to
	// train it.
	Perplexity *PerplexityStats `json:"perplexity,omitempty"`
}

// KindQuality is the quality distributions of one kind of clean/ row.
type KindQuality struct {
	Kind string `json:"kind"`
	Rows int64  `json:"rows"`
	// Length is characters per row over its text fields.
	Length Histogram `json:"length"`
	// CJK is the Han share of letters and digits, in per cent (rows with
	// no letter or digit are left out).
	CJK Histogram `json:"cjk_ratio"`
	// Repetition is the longest field's share of characters inside
	// repeated 20-grams, in per cent; Unjudged rows have no field of 100
	// characters, which clean's repetition filter does not judge either.
	Repetition Histogram `json:"repetition"`
	Unjudged   int64     `json:"repetition_unjudged"`
}

// Coverage counts one kind's clean rows per category.
type Coverage struct {
	Kind string `json:"kind"`
	// Fields names where categories came from (the category column and
	// meta keys such as department or 科室).
	Fields   []string    `json:"fields"`
	Rows     int64       `json:"rows"`
	Labelled int64       `json:"labelled"`
	Distinct int64       `json:"distinct"`
	Top      []NameCount `json:"top"`
}

// Cluster is one near-duplicate cluster: its root (the earliest row,
// always kept), how many rows it has and where the removed ones came from.
type Cluster struct {
	Root    string      `json:"root"`
	Source  string      `json:"source"`
	Size    int64       `json:"size"`
	Kept    int64       `json:"kept"`
	Removed []NameCount `json:"removed_by_source"`
}

// DupMatrix counts removed rows by their source (rows) and the source of
// the row they matched (columns).
type DupMatrix struct {
	Reason  string    `json:"reason"`
	Removed []string  `json:"removed_from"`
	Matched []string  `json:"matched_in"`
	Counts  [][]int64 `json:"counts"`
	// Unresolved rows name a matched row stats found in neither clean/ nor removed/.
	Unresolved int64 `json:"unresolved"`
}

// ReasonSamples is one removal reason with its count and sample rows.
type ReasonSamples struct {
	Reason  string   `json:"reason"`
	Count   int64    `json:"count"`
	Samples []Sample `json:"samples"`
}

// matchReasons are the removal reasons whose detail is another row's id.
var matchReasons = []string{"duplicate", "near_duplicate", "contaminated"}

// maxCategories bounds each kind's category counter; rarer labels past it
// are counted together as "(other)".
const maxCategories = 10_000

// categoryKeys are the meta keys read as a row's category when its kind
// has no category column, in order of preference: public corpora call it
// department (Toyhom), 科室, Clinical Department or Disease Group (CMExam).
var categoryKeys = []string{"category", "department", "科室", "Clinical Department", "Disease Group", "类别", "label"}

// removedMeta is the part of a removed/ row the first pass reads: the
// record column (megabytes for a too_long row) is not decoded.
type removedMeta struct {
	ID     string `parquet:"id"`
	Source string `parquet:"source"`
	Kind   string `parquet:"kind"`
	Reason string `parquet:"reason"`
	Detail string `parquet:"detail"`
}

// matchRef is one removed row that names the row it matched.
type matchRef struct {
	source, reason, detail string
}

// corpusScan gathers CorpusStats over removed/ then clean/.
type corpusScan struct {
	c       *collector
	reasons map[string]int64
	// samplers keep samplesPer rows per reason and source; picked is the
	// samplesPer rows per reason shown, spread over the sources.
	samplers map[string]map[string]*sampler
	picked   map[string][]Sample
	refs     []matchRef
	// removedSource maps a removed row's id to its source, for matched rows
	// that were themselves removed later (an exact copy's kept row can be a
	// near duplicate of an earlier one).
	removedSource map[string]string
	// nearRemoved and exactRemoved count removed rows per matched id.
	nearRemoved, exactRemoved map[string]int64
	// nearKept counts kept rows per cluster id, for rows not their own root.
	nearKept map[string]int64
	// need are the matched ids whose source clean/ must tell; found fills in.
	need map[string]string
	// matchedText holds the rows sample details name, found in clean/.
	matchedText map[string]*Sample
	// model scores the clean/ rows not in held, which trained it.
	model *ngram.Model
	held  map[string]bool
}

func (c *collector) corpus() error {
	s := &corpusScan{c: c, reasons: map[string]int64{}, samplers: map[string]map[string]*sampler{}, picked: map[string][]Sample{},
		removedSource: map[string]string{}, nearRemoved: map[string]int64{}, exactRemoved: map[string]int64{},
		nearKept: map[string]int64{}, need: map[string]string{}, matchedText: map[string]*Sample{}}
	if err := s.removed(); err != nil {
		return err
	}
	cs := &CorpusStats{Kinds: []KindQuality{}, Coverage: []Coverage{}, Largest: []Cluster{}, Matrices: []DupMatrix{}, Removed: []ReasonSamples{}}
	model, held, err := s.trainReference(c.opts.PerplexityChars)
	if err != nil {
		return err
	}
	if model != nil {
		s.model, s.held = model, held
		cs.Perplexity = &PerplexityStats{Model: modelWords(model), Order: model.Order(), TrainRows: model.TrainRows(),
			TrainChars: model.TrainChars(), CharCap: c.opts.PerplexityChars, Stride: pplStride, Kinds: []KindPerplexity{}}
	}
	found, err := s.clean(cs)
	if err != nil {
		return err
	}
	if !found && len(s.reasons) == 0 {
		return nil // neither clean/ nor removed/: the layers note says so
	}
	if err := s.duplicates(cs); err != nil {
		return err
	}
	if err := s.removedSamples(cs); err != nil {
		return err
	}
	if cs.Perplexity != nil {
		if err := s.removedPerplexity(cs.Perplexity); err != nil {
			return err
		}
	}
	c.rep.Corpus = cs
	return nil
}

// removed reads the small columns of every removed/ row.
func (s *corpusScan) removed() error {
	files, err := schemas.PartFiles(s.c.ws.Removed())
	if err != nil {
		return err
	}
	for _, f := range files {
		for r, err := range schemas.ReadFile[removedMeta](f) {
			if err != nil {
				return fmt.Errorf("stats: %w", err)
			}
			s.reasons[r.Reason]++
			if s.samplers[r.Reason] == nil {
				s.samplers[r.Reason] = map[string]*sampler{}
			}
			sm := s.samplers[r.Reason][r.Source]
			if sm == nil {
				sm = &sampler{k: samplesPer}
				s.samplers[r.Reason][r.Source] = sm
			}
			if h := hashID(r.ID); sm.wants(h) {
				sm.add(Sample{ID: r.ID, Source: r.Source, Kind: r.Kind, Reason: r.Reason, Detail: r.Detail, hash: h, file: f})
			}
			s.removedSource[r.ID] = r.Source
			if slices.Contains(matchReasons, r.Reason) && r.Detail != "" {
				s.refs = append(s.refs, matchRef{r.Source, r.Reason, r.Detail})
				s.need[r.Detail] = ""
				switch r.Reason {
				case "near_duplicate":
					s.nearRemoved[r.Detail]++
				case "duplicate":
					s.exactRemoved[r.Detail]++
				}
			}
		}
	}
	for reason, bySource := range s.samplers {
		s.picked[reason] = spread(bySource, samplesPer)
		for _, row := range s.picked[reason] {
			if slices.Contains(matchReasons, row.Reason) {
				s.matchedText[row.Detail] = nil
			}
		}
	}
	return nil
}

// spread picks k rows from per-source samples, one source at a time in
// turn (sources in order of their smallest hash), so one source with most
// of a reason's rows does not fill every slot.
func spread(bySource map[string]*sampler, k int) []Sample {
	lists := make([][]Sample, 0, len(bySource))
	for _, sm := range bySource {
		if len(sm.rows) > 0 {
			lists = append(lists, sm.rows)
		}
	}
	slices.SortFunc(lists, func(a, b []Sample) int {
		return cmp.Or(cmp.Compare(a[0].hash, b[0].hash), cmp.Compare(a[0].ID, b[0].ID))
	})
	var out []Sample
	for round := 0; len(out) < k; round++ {
		took := false
		for _, l := range lists {
			if round < len(l) && len(out) < k {
				out = append(out, l[round])
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out
}

// clean reads every clean/ row once: quality, coverage, cluster members
// and the sources of matched rows. It reports whether clean/ had any row.
func (s *corpusScan) clean(cs *CorpusStats) (bool, error) {
	found := false
	var scratch repScratch
	for _, k := range schemas.Kinds {
		dir := s.c.ws.Clean(k)
		files, err := schemas.PartFiles(dir)
		if err != nil {
			return false, err
		}
		if len(files) == 0 {
			continue
		}
		found = true
		q := KindQuality{Kind: string(k), Length: *newHistogram("length", "chars", lengthEdges),
			CJK: *newHistogram("cjk_ratio", "%", pctEdges), Repetition: *newHistogram("repetition", "%", pctEdges)}
		cov := &coverageAcc{counts: map[string]int64{}, fields: map[string]bool{}}
		var ppl *pplAcc
		if s.model != nil && pplScored(k) {
			ppl = newPPLAcc(k)
		}
		err = forEachRecord(dir, k, func(r schemas.Record) error {
			id := r.RecordID()
			if cl := r.ClusterID(); cl != "" && cl != id {
				s.nearKept[cl]++
			}
			if _, ok := s.need[id]; ok {
				s.need[id] = r.RecordSource()
			}
			if m, ok := s.matchedText[id]; ok && m == nil {
				s.matchedText[id] = recordSample(r, false)
			}
			q.Rows++
			cov.add(r)
			if ppl != nil {
				ppl.add(s.model, s.held, k, r)
			}
			if k == schemas.KindKG {
				return nil // a triple's few words have no length or repetition worth charting
			}
			var chars, han, letters int64
			best, judged := 0.0, false
			for _, f := range r.TextFields() {
				if f.Name == "category" {
					continue
				}
				v := *f.Value
				chars += runeLen(v)
				h, l := cjkShare(v)
				han, letters = han+int64(h), letters+int64(l)
				if share, ok := repeatedShare(v, &scratch); ok {
					best, judged = max(best, share), true
				}
			}
			q.Length.Add(chars)
			if letters > 0 {
				q.CJK.Add(han * 100 / letters)
			}
			if judged {
				q.Repetition.Add(int64(best * 100))
			} else {
				q.Unjudged++
			}
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("stats: %s: %w", s.c.rel(dir), err)
		}
		if k != schemas.KindKG {
			cs.Kinds = append(cs.Kinds, q)
		}
		if ppl != nil {
			cs.Perplexity.Kinds = append(cs.Perplexity.Kinds, ppl.result())
		}
		cs.Coverage = append(cs.Coverage, cov.result(string(k), q.Rows))
	}
	return found, nil
}

// duplicates turns the counts of both passes into the cluster histograms,
// the largest clusters and the source × source matrices.
func (s *corpusScan) duplicates(cs *CorpusStats) error {
	sourceOf := func(id string) string {
		if src := s.need[id]; src != "" {
			return src
		}
		return s.removedSource[id]
	}
	cs.NearClusters = *newHistogram("near-duplicate cluster", "rows", clusterEdges)
	cs.ExactGroups = *newHistogram("exact-duplicate group", "rows", clusterEdges)
	sizes := map[string]int64{}
	for root, n := range s.nearKept {
		sizes[root] += n
	}
	for root, n := range s.nearRemoved {
		sizes[root] += n
	}
	var clusters []Cluster
	for root, n := range sizes {
		cs.NearClusters.Add(n + 1)
		clusters = append(clusters, Cluster{Root: root, Source: sourceOf(root), Size: n + 1, Kept: s.nearKept[root] + 1})
	}
	for _, n := range s.exactRemoved {
		cs.ExactGroups.Add(n + 1)
	}
	slices.SortFunc(clusters, func(a, b Cluster) int { return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(a.Root, b.Root)) })
	clusters = clusters[:min(len(clusters), 10)]
	// A root whose cluster lost no row to near-dedup was not looked up in
	// the clean/ pass (nothing named it then): look up the few shown.
	var unknown []string
	for _, cl := range clusters {
		if cl.Source == "" {
			unknown = append(unknown, cl.Root)
		}
	}
	if len(unknown) > 0 {
		found, err := s.sourcesOf(unknown)
		if err != nil {
			return err
		}
		for i := range clusters {
			if clusters[i].Source == "" {
				clusters[i].Source = found[clusters[i].Root]
			}
		}
	}
	top := map[string]map[string]int64{}
	for _, cl := range clusters {
		top[cl.Root] = map[string]int64{}
	}
	type cell struct{ from, to string }
	byReason := map[string]map[cell]int64{}
	unresolved := map[string]int64{}
	for _, ref := range s.refs {
		if m := top[ref.detail]; m != nil && ref.reason == "near_duplicate" {
			m[ref.source]++
		}
		to := sourceOf(ref.detail)
		if to == "" {
			unresolved[ref.reason]++
			continue
		}
		if byReason[ref.reason] == nil {
			byReason[ref.reason] = map[cell]int64{}
		}
		byReason[ref.reason][cell{ref.source, to}]++
	}
	for i := range clusters {
		clusters[i].Removed = sortedCounts(top[clusters[i].Root])
	}
	cs.Largest = append(cs.Largest, clusters...)
	for _, reason := range matchReasons {
		cells := byReason[reason]
		if len(cells) == 0 && unresolved[reason] == 0 {
			continue
		}
		from, to := map[string]bool{}, map[string]bool{}
		for c := range cells {
			from[c.from], to[c.to] = true, true
		}
		m := DupMatrix{Reason: reason, Removed: sortedKeys(from), Matched: sortedKeys(to), Unresolved: unresolved[reason]}
		for _, f := range m.Removed {
			row := make([]int64, len(m.Matched))
			for j, t := range m.Matched {
				row[j] = cells[cell{f, t}]
			}
			m.Counts = append(m.Counts, row)
		}
		cs.Matrices = append(cs.Matrices, m)
	}
	return nil
}

// rowSource is the part of a clean/ row sourcesOf reads.
type rowSource struct {
	ID     string `parquet:"id"`
	Source string `parquet:"source"`
}

// sourcesOf finds the sources of clean rows by id, reading only the id and
// source columns of clean/.
func (s *corpusScan) sourcesOf(ids []string) (map[string]string, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	found := map[string]string{}
	for _, k := range schemas.Kinds {
		for r, err := range schemas.ReadDir[rowSource](s.c.ws.Clean(k)) {
			if err != nil {
				return nil, fmt.Errorf("stats: %w", err)
			}
			if want[r.ID] {
				found[r.ID] = r.Source
				if len(found) == len(want) {
					return found, nil
				}
			}
		}
	}
	return found, nil
}

// clusterEdges are the lower edges of the cluster-size bins.
var clusterEdges = []int64{2, 3, 4, 5, 6, 11, 21, 51, 101}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// removedSamples reads the whole records of the sampled removed rows (only
// the part files that hold one) and masks their text.
func (s *corpusScan) removedSamples(cs *CorpusStats) error {
	want := map[string]map[string]*Sample{} // file → id → sample
	for _, rows := range s.picked {
		for i := range rows {
			row := &rows[i]
			if want[row.file] == nil {
				want[row.file] = map[string]*Sample{}
			}
			want[row.file][row.ID] = row
		}
	}
	for _, f := range sortedKeys(setOf(want)) {
		ids := want[f]
		left := len(ids)
		for r, err := range schemas.ReadFile[schemas.RemovedRow](f) {
			if err != nil {
				return fmt.Errorf("stats: %w", err)
			}
			row, ok := ids[r.ID]
			if !ok || row.Fields != nil {
				continue
			}
			row.Fields = recordFields(r.Kind, r.Record)
			if left--; left == 0 {
				break
			}
		}
	}
	reasons := make([]string, 0, len(s.reasons))
	for r := range s.reasons {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(cmp.Compare(s.reasons[b], s.reasons[a]), cmp.Compare(a, b)) })
	for _, reason := range reasons {
		rs := ReasonSamples{Reason: reason, Count: s.reasons[reason], Samples: []Sample{}}
		for _, row := range s.picked[reason] {
			if m := s.matchedText[row.Detail]; m != nil && slices.Contains(matchReasons, reason) {
				row.Matched = m
			}
			if row.Fields == nil {
				row.Fields = []SampleField{}
			}
			rs.Samples = append(rs.Samples, row)
		}
		cs.Removed = append(cs.Removed, rs)
	}
	return nil
}

func setOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// recordFields decodes a removed row's record (the row as ingest wrote it,
// as JSON) and returns its text fields, PII-masked and shortened. A record
// that does not decode is shown as its raw text, masked the same way.
func recordFields(kind, record string) []SampleField {
	r := newRecord(schemas.Kind(kind))
	if r == nil || json.Unmarshal([]byte(record), r) != nil {
		return []SampleField{sampleField("record", record, true)}
	}
	return recordSample(r, true).Fields
}

// recordSample shows a canonical row's non-empty text fields.
func recordSample(r schemas.Record, mask bool) *Sample {
	s := &Sample{ID: r.RecordID(), Source: r.RecordSource(), Kind: string(r.Kind()), Fields: []SampleField{}}
	if d, ok := r.(*schemas.Dialogue); ok { // turns are shown with their roles
		for _, t := range d.Turns {
			s.Fields = append(s.Fields, sampleField(t.Role, t.Content, mask))
		}
		return s
	}
	for _, f := range r.TextFields() {
		if *f.Value != "" {
			s.Fields = append(s.Fields, sampleField(f.Name, *f.Value, mask))
		}
	}
	return s
}

// newRecord is an empty row of kind k, nil for an unknown kind.
func newRecord(k schemas.Kind) schemas.Record {
	switch k {
	case schemas.KindText:
		return &schemas.Text{}
	case schemas.KindQA:
		return &schemas.QA{}
	case schemas.KindKG:
		return &schemas.Triple{}
	case schemas.KindDialogue:
		return &schemas.Dialogue{}
	case schemas.KindPreference:
		return &schemas.PreferencePair{}
	case schemas.KindExam:
		return &schemas.ExamQuestion{}
	}
	return nil
}

// forEachRecord streams the rows of a clean/<kind> folder as Records.
func forEachRecord(dir string, k schemas.Kind, fn func(schemas.Record) error) error {
	switch k {
	case schemas.KindText:
		return eachOf[schemas.Text](dir, fn)
	case schemas.KindQA:
		return eachOf[schemas.QA](dir, fn)
	case schemas.KindKG:
		return eachOf[schemas.Triple](dir, fn)
	case schemas.KindDialogue:
		return eachOf[schemas.Dialogue](dir, fn)
	case schemas.KindPreference:
		return eachOf[schemas.PreferencePair](dir, fn)
	case schemas.KindExam:
		return eachOf[schemas.ExamQuestion](dir, fn)
	}
	return fmt.Errorf("unknown kind %q", k)
}

func eachOf[T any, P interface {
	*T
	schemas.Record
}](dir string, fn func(schemas.Record) error) error {
	for r, err := range schemas.ReadDir[T](dir) {
		if err != nil {
			return err
		}
		if err := fn(P(&r)); err != nil {
			return err
		}
	}
	return nil
}

// metaOf is a row's meta JSON (the raw fields ingest did not map).
func metaOf(r schemas.Record) string {
	switch r := r.(type) {
	case *schemas.Text:
		return r.Meta
	case *schemas.QA:
		return r.Meta
	case *schemas.Triple:
		return r.Meta
	case *schemas.Dialogue:
		return r.Meta
	case *schemas.PreferencePair:
		return r.Meta
	case *schemas.ExamQuestion:
		return r.Meta
	}
	return ""
}

// coverageAcc counts one kind's rows per category.
type coverageAcc struct {
	counts   map[string]int64
	fields   map[string]bool
	labelled int64
}

func (a *coverageAcc) add(r schemas.Record) {
	label, field := "", ""
	if qa, ok := r.(*schemas.QA); ok && strings.TrimSpace(qa.Category) != "" {
		label, field = strings.TrimSpace(qa.Category), "category"
	} else {
		label, field = metaCategory(metaOf(r))
	}
	if label == "" {
		return
	}
	a.labelled++
	a.fields[field] = true
	if _, ok := a.counts[label]; ok || len(a.counts) < maxCategories {
		a.counts[label]++
	} else {
		a.counts["(other)"]++
	}
}

func (a *coverageAcc) result(kind string, rows int64) Coverage {
	top := sortedCounts(a.counts)
	return Coverage{Kind: kind, Fields: sortedKeys(a.fields), Rows: rows, Labelled: a.labelled,
		Distinct: int64(len(a.counts)), Top: top[:min(len(top), maxBars)]}
}

// metaCategory reads the first category key present in meta; a list value
// gives its most specific (last) non-empty element ("内科 › 心血管内科").
func metaCategory(meta string) (label, key string) {
	if meta == "" || meta == "{}" {
		return "", ""
	}
	hit := false
	for _, k := range categoryKeys {
		if strings.Contains(meta, `"`+k+`"`) {
			hit = true
			break
		}
	}
	if !hit {
		return "", ""
	}
	var m map[string]any
	if json.Unmarshal([]byte(meta), &m) != nil {
		return "", ""
	}
	for _, k := range categoryKeys {
		switch v := m[k].(type) {
		case string:
			if v = strings.TrimSpace(v); v != "" {
				return v, k
			}
		case []any:
			for i := len(v) - 1; i >= 0; i-- {
				if s, ok := v[i].(string); ok && strings.TrimSpace(s) != "" {
					return strings.TrimSpace(s), k
				}
			}
		}
	}
	return "", ""
}
