package stats

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/segment"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/kg"
	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// Options tune Collect.
type Options struct {
	// WordCap rows of each stage are segmented with jieba in full (default
	// 20,000); past it only every row whose id hashes to 0 mod WordStride
	// (default 16) is, and word totals are scaled from the sample.
	WordCap    int64
	WordStride int64
	// NoWords skips jieba altogether (word columns stay 0).
	NoWords bool
	// Tokenizer counts tokens as the trainer does; TokenizerFrom says
	// where it came from (its file, or how it was built), or without a
	// Tokenizer why there is none. Without one, token columns stay 0 and
	// the page says tokens were not counted.
	Tokenizer     Tokenizer
	TokenizerFrom string
	// PerplexityChars caps the characters the perplexity reference model
	// trains on (default 1,000,000): its memory grows with them, about
	// 0.12 kB per character at order 4.
	PerplexityChars int64
}

// Tokenizer is what stats needs of the trainer's tokenizer
// (trainer.Tokenizer), so stats does not depend on the trainer package.
type Tokenizer interface {
	Encode(s string) []int32
}

func (o *Options) defaults() {
	if o.WordCap <= 0 {
		o.WordCap = 20_000
	}
	if o.WordStride <= 0 {
		o.WordStride = 16
	}
	if o.PerplexityChars <= 0 {
		o.PerplexityChars = 1_000_000
	}
}

// maxRelations bounds the relation counter of the clean/kg fallback; rarer
// relations past it are counted together as "(other)".
const maxRelations = 10_000

// collector gathers one Report.
type collector struct {
	ws    workspace.Dir
	opts  Options
	rep   *Report
	words bool // jieba is available and wanted
	// manifestKG is the kg statistics path stages/manifest.json names.
	manifestKG string
}

// Collect reads every input of workspace ws that exists and returns the
// report. Missing inputs are notes; the errors are I/O failures on files
// that exist and cannot be read as what they claim to be, and a workspace
// with nothing at all to describe (a *workspace.MissingError naming the
// first step to run).
func Collect(ws workspace.Dir, opts Options) (*Report, error) {
	opts.defaults()
	c := &collector{ws: ws, opts: opts, rep: &Report{
		Workspace: string(ws), Notes: []string{}, Sources: []SourceInfo{}, Quarantine: []NameCount{}, Layers: []LayerRows{}, Stages: []StageStats{},
		Sampling: Sampling{Cap: opts.WordCap, Stride: opts.WordStride},
	}}
	if !opts.NoWords {
		if _, err := segment.Jieba(); err != nil {
			c.note("word counts are missing: %v", err)
		} else {
			c.words = true
			c.rep.Sampling.Segmenter = "jieba"
		}
	} else {
		c.note("word counts were not asked for (--no-words)")
	}
	if opts.Tokenizer != nil {
		c.rep.Tokenizer = cmp.Or(opts.TokenizerFrom, "the trainer's tokenizer")
	} else {
		c.note("trainer tokens were not counted: %s", cmp.Or(opts.TokenizerFrom, "no tokenizer was given"))
	}
	steps := []func() error{c.sources, c.ingest, c.quarantine, c.layers, c.clean, c.corpus, c.stages, c.manifest, c.kg, c.dialogue}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if r := c.rep; r.Ingest == nil && len(r.Quarantine) == 0 && len(r.Layers) == 0 && r.Clean == nil &&
		len(r.Stages) == 0 && r.Manifest == nil && r.KG == nil && r.Dialogue == nil {
		return nil, fmt.Errorf("stats: nothing to describe in %s: %w", ws, &workspace.MissingError{Path: "reports/ingest.json", Step: "ingest"})
	}
	return c.rep, nil
}

func (c *collector) note(format string, args ...any) {
	c.rep.Notes = append(c.rep.Notes, fmt.Sprintf(format, args...))
}

// rel names a workspace path relative to the workspace, for notes.
func (c *collector) rel(p string) string {
	if r, err := filepath.Rel(string(c.ws), p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// readJSON decodes a step's report into its own type, T. A missing file is
// a note and nil; a malformed one is a note naming the place and nil, so
// one bad report does not hide the rest.
func readJSON[T any](c *collector, path, makes string) *T {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.note("%s is missing (run `chimed %s`)", c.rel(path), makes)
		return nil
	}
	if err != nil {
		c.note("%s: %v", c.rel(path), err)
		return nil
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			c.note("%s: not valid JSON at byte %d: %v", c.rel(path), se.Offset, err)
		} else {
			c.note("%s: %v", c.rel(path), err)
		}
		return nil
	}
	return v
}

// tableColumn is one numeric column of a per-source Table: its name and how a
// row of type T gives its value.
type tableColumn[T any] struct {
	name  string
	value func(T) float64
}

// sourceTable lays a step report's per-source counts out as a Table: one
// row per source in name order, then a totals row when totals is not nil.
// A table of no sources has no columns.
func sourceTable[T any](sources map[string]T, totals *T, cols []tableColumn[T]) *Table {
	if len(sources) == 0 {
		cols = nil
	}
	t := &Table{Columns: make([]string, 0, len(cols)), Rows: []TableRow{}}
	for _, col := range cols {
		t.Columns = append(t.Columns, col.name)
	}
	row := func(name string, v T) TableRow {
		r := TableRow{Name: name, Values: make([]float64, len(cols))}
		for i, col := range cols {
			r.Values[i] = col.value(v)
		}
		return r
	}
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		t.Rows = append(t.Rows, row(name, sources[name]))
	}
	if totals != nil {
		t.Rows = append(t.Rows, row("totals", *totals))
	}
	return t
}

// present drops a report's null sources, which have no counts to show.
func present[T any](sources map[string]*T) map[string]T {
	out := make(map[string]T, len(sources))
	for name, s := range sources {
		if s != nil {
			out[name] = *s
		}
	}
	return out
}

// sum adds a map's counts (removal reasons, unused reasons).
func sum(m map[string]int64) float64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return float64(n)
}

// ingestColumns are reports/ingest.json's columns; lookup, the sum of a
// join's lookup counts (read, used, quarantined), only when a source has a
// join.
func ingestColumns(withLookup bool) []tableColumn[ingest.Counts] {
	cols := []tableColumn[ingest.Counts]{
		{"read", func(c ingest.Counts) float64 { return float64(c.Read) }},
		{"written", func(c ingest.Counts) float64 { return float64(c.Written) }},
		{"quarantined", func(c ingest.Counts) float64 { return float64(c.Quarantined) }},
		{"bytes", func(c ingest.Counts) float64 { return float64(c.Bytes) }},
		{"files", func(c ingest.Counts) float64 { return float64(c.Files) }},
		{"lookup", func(c ingest.Counts) float64 {
			if c.Lookup == nil {
				return 0
			}
			return float64(c.Lookup.Read + c.Lookup.Used + c.Lookup.Quarantined)
		}},
		{"meta_capped", func(c ingest.Counts) float64 { return float64(c.MetaCapped) }},
		{"records_ok", func(c ingest.Counts) float64 { return float64(c.RecordsOK) }},
	}
	if !withLookup {
		cols = slices.DeleteFunc(cols, func(c tableColumn[ingest.Counts]) bool { return c.name == "lookup" })
	}
	return cols
}

func (c *collector) ingest() error {
	r := readJSON[ingest.Report](c, c.ws.Report("ingest.json"), "ingest")
	if r == nil {
		return nil
	}
	counts := map[string]ingest.Counts{}
	lookup := false
	for name, s := range present(r.Sources) {
		counts[name] = s.Counts
		lookup = lookup || s.Lookup != nil
	}
	c.rep.Ingest = sourceTable(counts, &r.Totals, ingestColumns(lookup))
	return nil
}

func (c *collector) quarantine() error {
	files, err := schemas.PartFiles(c.ws.Quarantine())
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return nil
	}
	counts := map[string]int64{}
	for _, f := range files {
		for r, err := range schemas.ReadFile[schemas.QuarantineRow](f) {
			if err != nil {
				c.note("%s: %v", c.rel(f), err)
				break
			}
			counts[r.File]++
		}
	}
	c.rep.Quarantine = sortedCounts(counts)
	return nil
}

// sortedCounts lists a map's counts, largest first, ties by name.
func sortedCounts(m map[string]int64) []NameCount {
	out := make([]NameCount, 0, len(m))
	for k, v := range m {
		out = append(out, NameCount{k, v})
	}
	slices.SortFunc(out, func(a, b NameCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func (c *collector) layers() error {
	for _, layer := range []string{"normalized", "clean"} {
		any := false
		for _, k := range schemas.Kinds {
			dir := c.ws.Normalized(k)
			if layer == "clean" {
				dir = c.ws.Clean(k)
			}
			files, err := schemas.PartFiles(dir)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				continue
			}
			any = true
			lr := LayerRows{Layer: layer, Kind: string(k), Files: len(files)}
			for _, f := range files {
				n, err := schemas.CountRows(f)
				if err != nil {
					return err
				}
				lr.Rows += n
			}
			c.rep.Layers = append(c.rep.Layers, lr)
		}
		if !any {
			c.note("%s/ holds no Parquet files", layer)
		}
	}
	return nil
}

// cleanColumns are reports/clean.json's per-source columns.
var cleanColumns = []tableColumn[clean.SourceCounts]{
	{"in", func(s clean.SourceCounts) float64 { return float64(s.In) }},
	{"kept", func(s clean.SourceCounts) float64 { return float64(s.Kept) }},
	{"removed", func(s clean.SourceCounts) float64 { return sum(s.Removed) }},
}

// nearDedupCounter is one number of clean.NearStats under its dotted
// clean.json key. Counts (rows indexed, candidate, duplicate and cluster
// pairs) are charted with the duplicate removals; the rest are parameters
// only the counter table lists.
type nearDedupCounter struct {
	name  string
	value float64
	count bool
}

// nearDedupCounters lists n's numbers in key order.
func nearDedupCounters(n *clean.NearStats) []nearDedupCounter {
	return []nearDedupCounter{
		{"near_dedup.bands", float64(n.Bands), false},
		{"near_dedup.candidates", float64(n.Candidates), true},
		{"near_dedup.cluster_pairs", float64(n.Clustered), true},
		{"near_dedup.cluster_threshold", n.ClusterThreshold, false},
		{"near_dedup.duplicate_pairs", float64(n.Duplicates), true},
		{"near_dedup.index_bytes_per_row", float64(n.IndexBytesPerRow), false},
		{"near_dedup.indexed", float64(n.Indexed), true},
		{"near_dedup.ngram", float64(n.NGram), false},
		{"near_dedup.rows", float64(n.Rows), false},
		{"near_dedup.threshold", n.Threshold, false},
	}
}

func (c *collector) clean() error {
	r := readJSON[clean.Report](c, c.ws.Report("clean.json"), "clean")
	if r == nil {
		return nil
	}
	srcs := present(r.Sources)
	cs := &CleanStats{Sources: sourceTable(srcs, r.Totals, cleanColumns), Dedup: []NameCount{}, PII: []NameCount{}, Counters: []NameValue{}}
	// Removal reasons, per source and in total.
	reasons := map[string]int64{}
	bySource := map[string]map[string]int64{}
	for name, s := range srcs {
		bySource[name] = s.Removed
		for reason, n := range s.Removed {
			reasons[reason] += n
		}
	}
	cs.Reasons = sortedCounts(reasons)
	var reasonCols []tableColumn[map[string]int64]
	for _, reason := range slices.Sorted(maps.Keys(reasons)) {
		reasonCols = append(reasonCols, tableColumn[map[string]int64]{reason, func(m map[string]int64) float64 { return float64(m[reason]) }})
	}
	cs.ReasonsBySource = sourceTable(bySource, nil, reasonCols)
	for _, r := range cs.Reasons {
		if low := strings.ToLower(r.Name); strings.Contains(low, "dup") || strings.Contains(low, "contam") {
			cs.Dedup = append(cs.Dedup, NameCount{"removed: " + r.Name, r.Count})
		}
	}
	// Every other number: near-dedup counters, rewrites, PII.
	if r.NearDedup != nil {
		for _, n := range nearDedupCounters(r.NearDedup) {
			cs.Counters = append(cs.Counters, NameValue{n.name, n.value})
			if n.count {
				cs.Dedup = append(cs.Dedup, NameCount{n.name, int64(math.Round(n.value))})
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Rewrites.Normalise)) {
		cs.Counters = append(cs.Counters, NameValue{"rewrites.normalise." + k, float64(r.Rewrites.Normalise[k])})
	}
	for _, k := range slices.Sorted(maps.Keys(r.Rewrites.PII)) {
		cs.Counters = append(cs.Counters, NameValue{"rewrites.pii." + k, float64(r.Rewrites.PII[k])})
		cs.PII = append(cs.PII, NameCount{k, r.Rewrites.PII[k]})
	}
	c.rep.Clean = cs
	return nil
}

// hashID maps a row id to a number for deterministic sampling.
func hashID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// flowColumns are stages/manifest.json's per-source columns.
var flowColumns = []tableColumn[stages.SourceCount]{
	{"in", func(s stages.SourceCount) float64 { return float64(s.In) }},
	{"used", func(s stages.SourceCount) float64 { return float64(s.Used) }},
	{"unused", func(s stages.SourceCount) float64 { return sum(s.Unused) }},
}

func (c *collector) manifest() error {
	m := readJSON[stages.Manifest](c, stages.ManifestPath(c.ws), "build-stages")
	if m == nil {
		return nil
	}
	c.manifestKG = m.KGStats
	c.rep.Manifest = &ManifestStats{Version: m.Version, Seed: m.Seed, ConfigSHA256: m.ConfigSHA256,
		LeakageCheck: m.LeakageCheck, Files: m.Files}
	if m.Files == nil {
		c.rep.Manifest.Files = []stages.FileEntry{}
	}
	c.checkManifestRows(m)
	if m.Sources != nil {
		c.rep.Flow = sourceTable(present(m.Sources), &m.Totals, flowColumns)
	}
	return nil
}

// checkManifestRows compares the rows stats counted in each stage file with
// the rows the manifest says build-stages wrote; any difference is a note
// (a stage file changed after the manifest, or a step miscounted).
func (c *collector) checkManifestRows(m *stages.Manifest) {
	want := map[string]int64{} // workspace-relative file → rows
	for st, splits := range m.Stages {
		for split, n := range splits {
			if n != nil {
				want["stages/"+string(st)+"/"+split+".parquet"] = n.Rows
			}
		}
	}
	for set, n := range m.Eval {
		want["stages/eval/"+set+".parquet"] = n
	}
	if len(want) == 0 {
		return
	}
	got := map[string]int64{}
	for _, st := range c.rep.Stages {
		dir := "stages/" + st.Name + "/"
		if strings.HasPrefix(st.Name, "eval/") {
			dir = "stages/eval/"
		}
		for _, f := range st.Files {
			got[dir+f.Name] = f.Count
		}
	}
	agree := true
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g := got[k]; g != want[k] {
			agree = false
			c.note("stages/manifest.json says %s has %d rows; stats read %d", k, want[k], g)
		}
	}
	c.rep.Manifest.RowsAgree = &agree
}

func (c *collector) kg() error {
	path := stages.KGStatsPath(c.ws)
	if p := c.manifestKG; p != "" {
		path = p
		if !filepath.IsAbs(p) {
			path = c.ws.Path(filepath.FromSlash(p))
		}
	}
	if _, err := os.Stat(path); err == nil {
		if f := readJSON[kg.Stats](c, path, "build-stages"); f != nil {
			ks := &KGStats{From: c.rel(path), Triples: int64(f.Triples), Entities: int64(f.Entities), Relations: int64(f.Relations),
				Top: []NameCount{}, Dropped: []NameCount{}}
			for _, t := range f.TopRelations {
				ks.Top = append(ks.Top, NameCount{t.Name, int64(t.Count)})
			}
			for _, d := range f.Degree {
				ks.Degree = append(ks.Degree, NameCount{d.Label, int64(d.Entities)})
			}
			dropped := map[string]int64{}
			for reason, n := range f.Dropped {
				dropped[reason] = int64(n)
			}
			ks.Dropped = sortedCounts(dropped)
			c.rep.KG = ks
			return nil
		}
	}
	// No statistics file: count relations of clean/kg ourselves.
	dir := c.ws.Clean(schemas.KindKG)
	files, err := schemas.PartFiles(dir)
	if err != nil || len(files) == 0 {
		c.note("no knowledge-graph statistics: neither %s nor %s/*.parquet exist", c.rel(path), c.rel(dir))
		return err
	}
	rels := map[string]int64{}
	ks := &KGStats{From: c.rel(dir)}
	for t, err := range schemas.ReadDir[schemas.Triple](dir) {
		if err != nil {
			return err
		}
		ks.Triples++
		if _, ok := rels[t.Relation]; ok || len(rels) < maxRelations {
			rels[t.Relation]++
		} else {
			rels["(other)"]++
		}
	}
	ks.Relations = int64(len(rels))
	top := sortedCounts(rels)
	ks.Top = top[:min(20, len(top))]
	c.rep.KG = ks
	return nil
}

func (c *collector) dialogue() error {
	dir := c.ws.Clean(schemas.KindDialogue)
	files, err := schemas.PartFiles(dir)
	if err != nil || len(files) == 0 {
		if err == nil {
			c.note("%s/ holds no dialogues", c.rel(dir))
		}
		return err
	}
	ds := &DialogueStats{PerDialog: *newHistogram("turns", "turns", turnEdges)}
	roles := map[string]int64{}
	for d, err := range schemas.ReadDir[schemas.Dialogue](dir) {
		if err != nil {
			return err
		}
		ds.Dialogues++
		ds.Turns += int64(len(d.Turns))
		ds.PerDialog.Add(int64(len(d.Turns)))
		for _, t := range d.Turns {
			roles[t.Role]++
		}
	}
	ds.Roles = sortedCounts(roles)
	c.rep.Dialogue = ds
	return nil
}

// runeLen counts characters (code points), the unit Chinese lengths use.
func runeLen(s string) int64 { return int64(utf8.RuneCountInString(s)) }
