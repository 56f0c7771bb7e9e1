package stages

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/schemas"
)

// trainingKinds are the training pass's kinds in the order their rows
// appear in every file they share (the lane order).
var trainingKinds = []func(*builder) error{
	(*builder).texts, (*builder).qas, (*builder).graph,
	(*builder).dialogues, (*builder).exams, (*builder).preferences,
}

// trainingKindOf is the clean kind each of trainingKinds reads.
var trainingKindOf = []schemas.Kind{
	schemas.KindText, schemas.KindQA, schemas.KindKG,
	schemas.KindDialogue, schemas.KindExam, schemas.KindPreference,
}

// writes is every stage training kind i can write rows to: the kind's own
// stages as the config has them, and its builders'. A kind is done with
// every other file from the start, so the kinds after it need not wait.
func (b *builder) writes(i int) map[schemas.Stage]bool {
	k := trainingKindOf[i]
	w := map[schemas.Stage]bool{}
	switch k {
	case schemas.KindText:
		w[schemas.StageDCPT] = true
	case schemas.KindQA:
		w[schemas.StageSFT] = true
		w[schemas.StageDCPT] = b.cfg.DCPT.QAAsText
	case schemas.KindKG:
		w[schemas.StageDCPT], w[schemas.StageSFT] = true, true
	case schemas.KindDialogue:
		w[schemas.StageSFT] = true
	case schemas.KindExam:
		w[schemas.StageSFT] = true
		w[schemas.StageDPO] = !b.cfg.DPO.NoExamPairs
	case schemas.KindPreference:
		w[schemas.StageDPO] = true
	}
	for _, bl := range builders {
		if bl.Kind == k {
			w[bl.Stage] = true
		}
	}
	return w
}

// Which pass read is in: the eval pass reads eval sources' files, the
// training pass the rest.
const (
	passTrain = iota
	passEval
)

var errStopped = errors.New("stopped: another kind failed")

// trainingKinds builds every kind's training rows, Options.Workers kinds at
// a time, each on a builder of its own whose counts are added to the
// manifest in kind order once all have finished.
func (b *builder) trainingKinds() error {
	workers := b.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if b.m.Tokens == TokensWords {
		workers = 1 // jieba is not known to be safe for concurrent use
	}
	for _, sp := range schemas.StageTable() {
		if b.cfg.stage(sp.Name).Budget > 0 {
			workers = 1 // a stage budget is spent in kind order
		}
	}
	workers = min(workers, len(trainingKinds))
	group := b.opts.Bars.Group()
	defer group.Stop()
	var stop atomic.Bool
	kbs := make([]*builder, len(trainingKinds))
	for i := range kbs {
		kbs[i] = b.forKind(i, group, &stop)
		if workers == 1 {
			kbs[i].stageTokens = b.stageTokens
		}
	}
	for i, kb := range kbs {
		if err := kb.finishLanes(kb.writes(i)); err != nil {
			return err
		}
	}
	errs := make([]error, len(kbs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(kbs) {
					return
				}
				err := trainingKinds[i](kbs[i])
				if err == nil {
					err = kbs[i].finishLanes(nil)
				}
				if err != nil {
					errs[i] = err
					stop.Store(true)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, errStopped) {
			return err
		}
	}
	for _, kb := range kbs {
		b.m.add(kb.m)
	}
	return nil
}

// forKind is a builder for training kind i: the shared, read-only eval
// index and settings, its own lanes, counts and scratch.
func (b *builder) forKind(i int, group *progress.Group, stop *atomic.Bool) *builder {
	kb := &builder{
		opts: b.opts, cfg: b.cfg, ws: b.ws, split: b.split, grams: b.grams, evalK: b.evalK, shaper: b.shaper,
		sb: b.sb, laneFiles: b.laneFiles, check: b.check, scan: &rowScanner{c: b.check}, kind: i, stop: stop, bars: group, pass: passTrain,
		lanes: map[schemas.Stage]*[3]any{}, linLanes: map[string]*lane[LineageRow]{},
		stageRows: map[schemas.Stage]map[string]int64{}, stageTokens: map[schemas.Stage]int64{},
		m: &Manifest{Tokens: b.m.Tokens, NGram: b.m.NGram, Stages: map[schemas.Stage]map[string]*SplitCount{},
			Sources: map[string]*SourceCount{}},
	}
	for st, fs := range b.laneFiles {
		kb.lanes[st] = &[3]any{fs[0].lane(i), fs[1].lane(i), fs[2].lane(i)}
		kb.stageRows[st] = map[string]int64{}
	}
	for k, f := range b.linFiles {
		kb.linLanes[k] = f.lanes[i]
	}
	for _, st := range schemas.Stages {
		kb.m.Stages[st] = map[string]*SplitCount{}
		for _, split := range schemas.Splits {
			kb.m.Stages[st][split] = &SplitCount{}
		}
	}
	return kb
}

// finishLanes tells every file this kind is done with it, but the files of
// the stages in keep.
func (b *builder) finishLanes(keep map[schemas.Stage]bool) error {
	for st, fs := range b.laneFiles {
		if keep[st] {
			continue
		}
		for i, f := range fs {
			if err := f.finishLane(b.kind); err != nil {
				return err
			}
			if l := b.linLanes[splitKey(st, i)]; l != nil {
				if err := l.finish(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// add adds a kind's counts to the manifest.
func (m *Manifest) add(p *Manifest) {
	for st, splits := range p.Stages {
		for split, c := range splits {
			t := m.Stages[st][split]
			t.Rows += c.Rows
			t.Tokens += c.Tokens
		}
	}
	for name, s := range p.Sources {
		t := m.Sources[name]
		if t == nil {
			t = newSourceCount(s.Kind, s.Eval)
			m.Sources[name] = t
		}
		t.In += s.In
		t.Used += s.Used
		for k, v := range s.Unused {
			t.Unused[k] += v
		}
		for k, v := range s.Rows {
			t.Rows[k] += v
		}
	}
	m.Throughput.CleanBytes += p.Throughput.CleanBytes
	m.Throughput.CleanRows += p.Throughput.CleanRows
	m.Throughput.TextBytes += p.Throughput.TextBytes
}

// put writes a stage row to this kind's lane of its split file.
func (b *builder) put(st schemas.Stage, split int, v any) error {
	w := b.lanes[st][split]
	switch r := v.(type) {
	case schemas.DCPTRow:
		return writeRow(st, w, r)
	case schemas.SFTRow:
		return writeRow(st, w, r)
	case schemas.DPORow:
		return writeRow(st, w, r)
	}
	return fmt.Errorf("stage %s: %T is no stage row", st, v)
}

// startBar starts a progress bar, among the kinds' when kinds run at once.
func (b *builder) startBar(prefix string, total int64) *progress.Bar {
	if b.bars != nil {
		return b.bars.Start(prefix, total, false)
	}
	return b.opts.Bars.Start(prefix, total, false)
}

// partName is how clean names a part file: <source>-NNNNN.parquet.
var partName = regexp.MustCompile(`^(.+)-[0-9]{5}\.parquet$`)

// fileSource is the configured source a clean file is named after ("" when
// none) and whether it is an eval source.
func (b *builder) fileSource(path string) (string, bool) {
	m := partName.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return "", false
	}
	if _, ok := b.opts.Sources[m[1]]; !ok {
		return "", false
	}
	return m[1], b.opts.EvalSources[m[1]]
}

// recordKey is a clean record's source, id and near-duplicate cluster.
func recordKey(r any) (source, id, cluster string) {
	switch v := r.(type) {
	case *schemas.Text:
		return v.Source, v.ID, v.Cluster
	case *schemas.QA:
		return v.Source, v.ID, v.Cluster
	case *schemas.Triple:
		return v.Source, v.ID, v.Cluster
	case *schemas.Dialogue:
		return v.Source, v.ID, v.Cluster
	case *schemas.ExamQuestion:
		return v.Source, v.ID, v.Cluster
	case *schemas.PreferencePair:
		return v.Source, v.ID, v.Cluster
	}
	return "", "", ""
}

// cluster and entities are the rowFacts the check reads: a knowledge-graph
// record's from the graph pass, any other's from the record being read.
func (b *builder) cluster(rec string) string {
	if b.kgRecs != nil {
		return b.kgRecs[rec].cluster
	}
	if rec == b.cur.id {
		return b.cur.cluster
	}
	return ""
}

func (b *builder) entities(recs []string) []string {
	var names []string
	for _, rec := range recs {
		if r, ok := b.kgRecs[rec]; ok {
			names = append(names, r.head, r.tail)
		}
	}
	return names
}
