package stats

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/internal/segment"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
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

// readJSON decodes a step report into a generic tree. A missing file is a
// note and nil; a malformed one is a note naming the place and nil, so one
// bad report does not hide the rest.
func (c *collector) readJSON(path, makes string) map[string]any {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.note("%s is missing (run `chimed %s`)", c.rel(path), makes)
		return nil
	}
	if err != nil {
		c.note("%s: %v", c.rel(path), err)
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			c.note("%s: not valid JSON at byte %d: %v", c.rel(path), se.Offset, err)
		} else {
			c.note("%s: %v", c.rel(path), err)
		}
		return nil
	}
	return m
}

// sourcesTable turns {"sources": {NAME: {key: number | {k: number}}},
// "totals": {…}} into a Table: one column per key (a nested map of numbers
// counts as its sum), preferred columns first, then the others by name.
func sourcesTable(m map[string]any, preferred ...string) *Table {
	srcs, _ := m["sources"].(map[string]any)
	cols := map[string]bool{}
	value := func(v any) (float64, bool) {
		switch v := v.(type) {
		case float64:
			return v, true
		case map[string]any:
			var sum float64
			for _, x := range v {
				if f, ok := x.(float64); ok {
					sum += f
				}
			}
			return sum, true
		}
		return 0, false
	}
	rows := map[string]map[string]any{}
	for name, s := range srcs {
		if sm, ok := s.(map[string]any); ok {
			rows[name] = sm
			for k, v := range sm {
				if _, ok := value(v); ok {
					cols[k] = true
				}
			}
		}
	}
	t := &Table{Columns: []string{}, Rows: []TableRow{}}
	for _, p := range preferred {
		if cols[p] {
			t.Columns = append(t.Columns, p)
			delete(cols, p)
		}
	}
	var rest []string
	for k := range cols {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	t.Columns = append(t.Columns, rest...)
	row := func(name string, sm map[string]any) TableRow {
		r := TableRow{Name: name, Values: make([]float64, len(t.Columns))}
		for i, col := range t.Columns {
			r.Values[i], _ = value(sm[col])
		}
		return r
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Rows = append(t.Rows, row(n, rows[n]))
	}
	if tot, ok := m["totals"].(map[string]any); ok {
		t.Rows = append(t.Rows, row("totals", tot))
	}
	return t
}

// flatten lists every number in v under its dotted key path.
func flatten(prefix string, v any, out *[]NameValue) {
	switch v := v.(type) {
	case float64:
		*out = append(*out, NameValue{prefix, v})
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, v[k], out)
		}
	}
}

func (c *collector) ingest() error {
	m := c.readJSON(c.ws.Report("ingest.json"), "ingest")
	if m != nil {
		c.rep.Ingest = sourcesTable(m, "read", "written", "quarantined", "bytes")
	}
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

func (c *collector) clean() error {
	m := c.readJSON(c.ws.Report("clean.json"), "clean")
	if m == nil {
		return nil
	}
	cs := &CleanStats{Sources: sourcesTable(m, "in", "kept", "removed"), Dedup: []NameCount{}, PII: []NameCount{}, Counters: []NameValue{}}
	// Removal reasons, per source and in total.
	reasons := map[string]int64{}
	srcs, _ := m["sources"].(map[string]any)
	bySource := map[string]any{}
	for name, s := range srcs {
		sm, _ := s.(map[string]any)
		rm, _ := sm["removed"].(map[string]any)
		bySource[name] = rm
		for r, v := range rm {
			if f, ok := v.(float64); ok {
				reasons[r] += int64(f)
			}
		}
	}
	cs.Reasons = sortedCounts(reasons)
	cs.ReasonsBySource = sourcesTable(map[string]any{"sources": bySource})
	for _, r := range cs.Reasons {
		if low := strings.ToLower(r.Name); strings.Contains(low, "dup") || strings.Contains(low, "contam") {
			cs.Dedup = append(cs.Dedup, NameCount{"removed: " + r.Name, r.Count})
		}
	}
	// Every other number: rewrites, PII, near-dedup counters.
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "sources" && k != "totals" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		flatten(k, m[k], &cs.Counters)
	}
	for _, n := range cs.Counters {
		low := strings.ToLower(n.Name)
		switch {
		case strings.Contains(low, "pii"):
			cs.PII = append(cs.PII, NameCount{n.Name[strings.LastIndex(n.Name, ".")+1:], int64(math.Round(n.Value))})
		case strings.Contains(low, "dup") && isCount(low):
			cs.Dedup = append(cs.Dedup, NameCount{n.Name, int64(math.Round(n.Value))})
		}
	}
	c.rep.Clean = cs
	return nil
}

// isCount tells the near-dedup counters worth charting (rows indexed,
// candidate and duplicate pairs, clusters) from its parameters (bands,
// n-gram size, thresholds), which only the table shows.
func isCount(key string) bool {
	for _, suffix := range []string{"indexed", "candidates", "pairs", "clusters", "duplicates", "removed"} {
		if strings.HasSuffix(key, suffix) {
			return true
		}
	}
	return false
}

// hashID maps a row id to a number for deterministic sampling.
func hashID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// manifestFile is the part of stages/manifest.json stats reads; unknown
// keys are ignored so the stages step can add more.
type manifestFile struct {
	Version      string      `json:"version"`
	Seed         uint64      `json:"seed"`
	ConfigSHA256 string      `json:"config_sha256"`
	LeakageCheck string      `json:"leakage_check"`
	KGStats      string      `json:"kg_stats"`
	Files        []FileEntry `json:"files"`
	// Stages and Eval count rows per stage split and eval set; stats checks
	// its own counts against them.
	Stages map[string]map[string]struct {
		Rows int64 `json:"rows"`
	} `json:"stages"`
	Eval map[string]int64 `json:"eval"`
}

func (c *collector) manifest() error {
	path := filepath.Join(c.ws.Stages(), "manifest.json")
	m := c.readJSON(path, "build-stages")
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var mf manifestFile
	if err := json.Unmarshal(b, &mf); err != nil {
		c.note("%s: %v", c.rel(path), err)
		return nil
	}
	c.rep.Manifest = &ManifestStats{Version: mf.Version, Seed: mf.Seed, ConfigSHA256: mf.ConfigSHA256,
		LeakageCheck: mf.LeakageCheck, Files: mf.Files}
	if mf.Files == nil {
		c.rep.Manifest.Files = []FileEntry{}
	}
	c.checkManifestRows(mf)
	if _, ok := m["sources"].(map[string]any); ok {
		c.rep.Flow = sourcesTable(m, "in", "used", "unused")
		// Drop the per-file rows map column: the stage sections show it.
		if i := slices.Index(c.rep.Flow.Columns, "rows"); i >= 0 {
			c.rep.Flow.Columns = slices.Delete(c.rep.Flow.Columns, i, i+1)
			for j := range c.rep.Flow.Rows {
				c.rep.Flow.Rows[j].Values = slices.Delete(c.rep.Flow.Rows[j].Values, i, i+1)
			}
		}
	}
	return nil
}

// checkManifestRows compares the rows stats counted in each stage file with
// the rows the manifest says build-stages wrote; any difference is a note
// (a stage file changed after the manifest, or a step miscounted).
func (c *collector) checkManifestRows(mf manifestFile) {
	want := map[string]int64{} // workspace-relative file → rows
	for st, splits := range mf.Stages {
		for split, n := range splits {
			want["stages/"+st+"/"+split+".parquet"] = n.Rows
		}
	}
	for set, n := range mf.Eval {
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
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	agree := true
	for _, k := range keys {
		if g := got[k]; g != want[k] {
			agree = false
			c.note("stages/manifest.json says %s has %d rows; stats read %d", k, want[k], g)
		}
	}
	c.rep.Manifest.RowsAgree = &agree
}

// kgStatsFile is the part of the kg step's statistics file stats reads.
type kgStatsFile struct {
	Triples   int64 `json:"triples"`
	Entities  int64 `json:"entities"`
	Relations int64 `json:"relations"`
	Top       []struct {
		Name  string `json:"name"`
		Count int64  `json:"count"`
	} `json:"top_relations"`
	Degree []struct {
		Label    string `json:"label"`
		Entities int64  `json:"entities"`
	} `json:"degree_distribution"`
	Dropped map[string]int64 `json:"dropped"`
}

func (c *collector) kg() error {
	path := filepath.Join(c.ws.Stages(), "kg_stats.json")
	if c.rep.Manifest != nil {
		if p := c.manifestKGPath(); p != "" {
			path = p
		}
	}
	if b, err := os.ReadFile(path); err == nil {
		var f kgStatsFile
		if err := json.Unmarshal(b, &f); err != nil {
			c.note("%s: %v", c.rel(path), err)
		} else {
			ks := &KGStats{From: c.rel(path), Triples: f.Triples, Entities: f.Entities, Relations: f.Relations,
				Top: []NameCount{}, Dropped: sortedCounts(f.Dropped)}
			for _, t := range f.Top {
				ks.Top = append(ks.Top, NameCount{t.Name, t.Count})
			}
			for _, d := range f.Degree {
				ks.Degree = append(ks.Degree, NameCount{d.Label, d.Entities})
			}
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

// manifestKGPath is the kg statistics path the manifest names, if any.
func (c *collector) manifestKGPath() string {
	b, err := os.ReadFile(filepath.Join(c.ws.Stages(), "manifest.json"))
	if err != nil {
		return ""
	}
	var mf manifestFile
	if json.Unmarshal(b, &mf) != nil || mf.KGStats == "" {
		return ""
	}
	if filepath.IsAbs(mf.KGStats) {
		return mf.KGStats
	}
	return c.ws.Path(filepath.FromSlash(mf.KGStats))
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
