package stats

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/chimed/chimed/internal/segment"
	"github.com/chimed/chimed/schemas"
)

// rowView is what stats needs of any stage row: who it is, where it came
// from, its free-text fields and, for chats, how many messages it has.
type rowView struct {
	id, source string
	fields     []fieldText
	turns      int // messages per row; -1 when the row is not a chat
}

type fieldText struct{ name, text string }

// stageFile is one file of a stage set, with how to view its rows.
type stageFile struct {
	label string // split name or eval set
	path  string
	scan  func(path string, yield func(rowView) error) error
}

// scanRows streams a Parquet file of T through view.
func scanRows[T any](view func(*T, *rowView)) func(string, func(rowView) error) error {
	return func(path string, yield func(rowView) error) error {
		for r, err := range schemas.ReadFile[T](path) {
			if err != nil {
				return err
			}
			v := rowView{turns: -1}
			view(&r, &v)
			if err := yield(v); err != nil {
				return err
			}
		}
		return nil
	}
}

var (
	viewDCPT = scanRows(func(r *schemas.DCPTRow, v *rowView) {
		v.id, v.source, v.fields = r.ID, r.Source, []fieldText{{"text", r.Text}}
	})
	viewSFT = scanRows(func(r *schemas.SFTRow, v *rowView) {
		v.id, v.source, v.turns = r.ID, r.Source, len(r.Messages)
		for _, m := range r.Messages {
			v.fields = append(v.fields, fieldText{"messages." + m.Role, m.Content})
		}
	})
	viewDPO = scanRows(func(r *schemas.DPORow, v *rowView) {
		v.id, v.source = r.ID, r.Source
		v.fields = []fieldText{{"prompt", r.Prompt}, {"chosen", r.Chosen}, {"rejected", r.Rejected}}
	})
	viewExam = scanRows(func(r *schemas.ExamQuestion, v *rowView) {
		v.id, v.source = r.ID, r.Source
		opts := make([]string, len(r.Options))
		for i, o := range r.Options {
			opts[i] = o.Text
		}
		v.fields = []fieldText{{"question", r.Question}, {"options", strings.Join(opts, "\n")}, {"explanation", r.Explanation}}
	})
	viewEvalQA = scanRows(func(r *schemas.EvalQA, v *rowView) {
		v.id, v.source = r.ID, r.Source
		v.fields = []fieldText{{"question", r.Question}, {"answer", r.Answer}}
	})
)

// viewShape views the rows of each stage row shape.
var viewShape = map[schemas.Shape]func(string, func(rowView) error) error{
	schemas.ShapeText: viewDCPT, schemas.ShapeChat: viewSFT, schemas.ShapePair: viewDPO,
}

// unknownShape fails the scan of a stage whose rows stats cannot read,
// rather than leaving the stage out of the page.
func unknownShape(sh schemas.Shape) func(string, func(rowView) error) error {
	return func(path string, _ func(rowView) error) error {
		return fmt.Errorf("%s: stats reads no %q rows", path, sh)
	}
}

// stageSets lists every stage file set stats describes: each stage of the
// table, then the eval sets.
func (c *collector) stageSets() []struct {
	name  string
	files []stageFile
} {
	type set = struct {
		name  string
		files []stageFile
	}
	var sets []set
	for _, st := range schemas.Stages {
		s := set{name: string(st)}
		sp, _ := schemas.Spec(st)
		scan := viewShape[sp.Shape]
		if scan == nil {
			scan = unknownShape(sp.Shape)
		}
		for _, split := range schemas.Splits {
			s.files = append(s.files, stageFile{split, c.ws.StageFile(st, split), scan})
		}
		sets = append(sets, s)
	}
	sets = append(sets,
		set{"eval/exam", []stageFile{{"exam", c.ws.EvalFile("exam"), viewExam}}},
		set{"eval/qa", []stageFile{{"qa", c.ws.EvalFile("qa"), viewEvalQA}}})
	return sets
}

// stageAcc accumulates one stage set's numbers.
type stageAcc struct {
	c       *collector
	st      StageStats
	sources map[string]*SourceStats
	// sampled characters per source, to scale sampled words to all rows.
	sampledChars map[string]int64
	hists        map[string]*Histogram
	histOrder    []string
	turns        *Histogram
	row          int64 // rows seen, for the sampling cap
	samples      sampler
	// pending sampled rows wait here to be segmented in parallel.
	pending []rowView
}

func (a *stageAcc) hist(field, unit string) *Histogram {
	key := field + "\x00" + unit
	h, ok := a.hists[key]
	if !ok {
		h = newHistogram(field, unit, lengthEdges)
		a.hists[key] = h
		a.histOrder = append(a.histOrder, key)
	}
	return h
}

func (a *stageAcc) add(split string, v rowView) error {
	src, ok := a.sources[v.source]
	if !ok {
		src = &SourceStats{Source: v.source, SplitRows: map[string]int64{}}
		a.sources[v.source] = src
	}
	sampled := a.c.words && (a.row < a.c.opts.WordCap || hashID(v.id)%uint64(a.c.opts.WordStride) == 0)
	a.row++
	var chars, tokens int64
	for _, f := range v.fields {
		n := runeLen(f.text)
		chars += n
		a.hist(f.name, "chars").Add(n)
		if tok := a.c.opts.Tokenizer; tok != nil {
			tokens += int64(len(tok.Encode(f.text)))
		}
	}
	if a.c.opts.Tokenizer != nil && v.turns > 0 {
		tokens += 2 * int64(v.turns) // a role marker and an end marker per message (trainer.EncodeChat)
	}
	if h := hashID(v.id); a.samples.wants(h) {
		smp := Sample{ID: v.id, Source: v.source, Split: split, hash: h, Fields: []SampleField{}}
		for _, f := range v.fields {
			smp.Fields = append(smp.Fields, sampleField(f.name, f.text, false))
		}
		a.samples.add(smp)
	}
	if v.turns >= 0 {
		if a.turns == nil {
			a.turns = newHistogram("messages", "turns", turnEdges)
		}
		a.turns.Add(int64(v.turns))
	}
	src.Rows++
	src.SplitRows[split]++
	src.Chars += chars
	src.Tokens += tokens
	a.st.Rows++
	a.st.Chars += chars
	a.st.Tokens += tokens
	if sampled {
		src.SampledRows++
		a.sampledChars[v.source] += chars
		a.st.SampledRows++
		a.pending = append(a.pending, v)
		if len(a.pending) == cap(a.pending) {
			return a.segmentPending()
		}
	}
	return nil
}

// segmentPending counts the jieba words of the sampled rows waiting in
// a.pending, cutting on every CPU at once (gojieba is safe for concurrent
// use), then adds the counts in row order so the report stays the same
// whatever the scheduling.
func (a *stageAcc) segmentPending() error {
	rows := a.pending
	if len(rows) == 0 {
		return nil
	}
	counts := make([][]int64, len(rows))
	errs := make([]error, len(rows))
	workers := min(runtime.GOMAXPROCS(0), len(rows))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				counts[i] = make([]int64, len(rows[i].fields))
				for j, f := range rows[i].fields {
					ws, err := segment.Words(f.text)
					if err != nil {
						errs[i] = err
						break
					}
					counts[i][j] = int64(len(ws))
				}
			}
		}()
	}
	wg.Wait()
	for i, v := range rows {
		if errs[i] != nil {
			return errs[i]
		}
		var words int64
		for j, f := range v.fields {
			a.hist(f.name, "words").Add(counts[i][j])
			words += counts[i][j]
		}
		a.sources[v.source].Words += words // sampled words; scaled in finish
	}
	clear(a.pending)
	a.pending = a.pending[:0]
	return nil
}

// finish scales sampled word counts to every row and orders the output.
func (a *stageAcc) finish() (StageStats, error) {
	if err := a.segmentPending(); err != nil {
		return StageStats{}, err
	}
	var allChars, allWords int64
	for s, src := range a.sources {
		allChars += a.sampledChars[s]
		allWords += src.Words
	}
	names := make([]string, 0, len(a.sources))
	for n := range a.sources {
		names = append(names, n)
	}
	sort.Strings(names)
	a.st.Sources = []SourceStats{}
	for _, n := range names {
		src := a.sources[n]
		if a.c.words && src.SampledRows < src.Rows {
			a.st.Estimated = true
			ratio := 0.0 // words per character, from this source's sample or else the stage's
			switch {
			case a.sampledChars[n] > 0:
				ratio = float64(src.Words) / float64(a.sampledChars[n])
			case allChars > 0:
				ratio = float64(allWords) / float64(allChars)
			}
			src.Words = int64(math.Round(ratio * float64(src.Chars)))
		}
		a.st.Words += src.Words
		a.st.Sources = append(a.st.Sources, *src)
	}
	a.st.Histograms = []Histogram{}
	// Characters first, then words, each in the order fields appeared.
	for _, unit := range []string{"chars", "words"} {
		for _, key := range a.histOrder {
			if h := a.hists[key]; h.Unit == unit {
				a.st.Histograms = append(a.st.Histograms, *h)
			}
		}
	}
	a.st.Turns = a.turns
	a.st.Samples = append([]Sample{}, a.samples.rows...)
	return a.st, nil
}

func (c *collector) stages() error {
	for _, set := range c.stageSets() {
		a := &stageAcc{c: c, st: StageStats{Name: set.name, Files: []NameCount{}},
			sources: map[string]*SourceStats{}, sampledChars: map[string]int64{}, hists: map[string]*Histogram{},
			pending: make([]rowView, 0, 512), samples: sampler{k: samplesPer}}
		found := false
		for _, f := range set.files {
			if _, err := os.Stat(f.path); errors.Is(err, fs.ErrNotExist) {
				c.note("%s is missing", c.rel(f.path))
				continue
			}
			found = true
			before := a.st.Rows
			err := f.scan(f.path, func(v rowView) error { return a.add(f.label, v) })
			if err != nil {
				return fmt.Errorf("stats: %w", err)
			}
			a.st.Files = append(a.st.Files, NameCount{filepath.Base(f.path), a.st.Rows - before})
		}
		if !found {
			continue
		}
		st, err := a.finish()
		if err != nil {
			return fmt.Errorf("stats: %s: %w", set.name, err)
		}
		if st.Estimated {
			c.note("%s: words counted with jieba on %d of %d rows (the first %d, then 1 in %d by id hash) and scaled by characters",
				st.Name, st.SampledRows, st.Rows, c.opts.WordCap, c.opts.WordStride)
		}
		c.rep.Stages = append(c.rep.Stages, st)
	}
	return nil
}
