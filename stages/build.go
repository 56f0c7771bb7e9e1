package stages

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/chimed/chimed/dialogue"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/segment"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/kg"
	"github.com/chimed/chimed/schemas"
)

// Reasons a clean record gives no stage row, as counted in the manifest
// (package kg and dialogue add their own).
const (
	ReasonEvalOverlap    = "eval_overlap" // shares a cluster, question or n-gram with an eval question
	ReasonOverCap        = "over_cap"     // the source's cap for the stage was reached
	ReasonOverBudget     = "over_budget"  // the stage's token budget was reached
	ReasonWeightZero     = "weight_zero"  // the source has weight 0 in the stage
	ReasonSampledOut     = "sampled_out"  // a fractional weight did not pick the row
	ReasonEmpty          = "empty"        // a required field is empty
	ReasonIdentical      = "preference_identical"
	ReasonEvalKindUnused = "eval_kind_unused" // an eval source of a kind no eval set takes
	ReasonNoStage        = "no_stage"         // the config turned off every stage this row feeds
)

// Options are everything build-stages needs; cmd/chimed fills them from
// chimed.yaml so this package never reads the configuration itself.
type Options struct {
	Workspace   workspace.Dir
	Config      Config
	KG          kg.Config
	Dialogue    dialogue.Config
	Seed        uint64
	EvalSources map[string]bool // sources whose role is eval
	// Sources names every configured source and its kind, so the manifest
	// lists sources clean left empty too.
	Sources    map[string]schemas.Kind
	ConfigHash string // sha256 of chimed.yaml
	Version    string // chimed's version
	// Check also runs CheckLeakage, which re-reads every file written
	// (CI does). The check folded into the build runs either way.
	Check bool
	// Memory is the budget, in bytes, that rows held back for kinds built
	// ahead and the split indexes of the check may take before they spill
	// to ws/.chimed/tmp (0: 1 GiB).
	Memory int64
	// Workers is how many kinds are built at once (0: one per CPU). A
	// token budget, or counting tokens as words, builds them in turn.
	Workers int
	Log     *slog.Logger
	Bars    *progress.Bars
}

// splitKey names a stage split in manifest row counts: "sft/train".
func splitKey(st schemas.Stage, split int) string { return string(st) + "/" + schemas.Splits[split] }

type builder struct {
	opts   Options
	cfg    Config
	ws     workspace.Dir
	split  *SplitAssigner
	grams  *evalGrams
	evalK  map[string]struct{} // group and question keys of eval records
	shaper *dialogue.Shaper
	m      *Manifest

	files map[schemas.Stage]*[3]splitWriter // every stage of the table, by split
	exam  *fileWriter[schemas.ExamQuestion]
	qa    *fileWriter[schemas.EvalQA]
	lin   map[string]*fileWriter[LineageRow] // "sft/train", "eval/qa" → lineage
	order []string                           // lineage keys in file order

	// The training kinds write through lanes (see laneFile), one per kind
	// and file; kind is this builder's lane, cur the record being read.
	sb        *spillBudget
	laneFiles map[schemas.Stage]*[3]laneSet
	linFiles  map[string]*laneFile[LineageRow]
	kind      int
	lanes     map[schemas.Stage]*[3]any
	linLanes  map[string]*lane[LineageRow]
	check     *rowCheck
	scan      *rowScanner
	cur       struct{ id, cluster string }
	kgRecs    map[string]kgRecord // knowledge-graph records, for the check
	stop      *atomic.Bool        // another kind failed
	bars      *progress.Group     // the kinds' bars, drawn together
	pass      int                 // passEval or passTrain, for read

	stageRows   map[schemas.Stage]map[string]int64 // stage → source → rows (caps)
	stageTokens map[schemas.Stage]int64            // budgets
}

// kgRecord is a clean knowledge-graph record as the check sees it.
type kgRecord struct{ head, tail, cluster string }

// Build reads clean/ and writes every stage file, the eval sets, the
// lineage files, stages/kg_stats.json and, last, stages/manifest.json.
// An eval source that put no row into an eval set is an error, returned
// with the manifest once everything is written.
// Every file is written atomically; manifest.json is removed first, so a
// killed run leaves no manifest and a re-run redoes the work.
func Build(opts Options) (_ *Manifest, err error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	ws := opts.Workspace
	if err := atomicfile.Sweep(ws.Stages()); err != nil {
		return nil, err
	}
	if _, err := os.Stat(ws.Path("clean")); err != nil {
		return nil, fmt.Errorf("build-stages reads clean/: %w (run `chimed clean` first)", err)
	}
	old, _ := ReadManifest(ws)
	if err := os.Remove(ManifestPath(ws)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	budget := opts.Memory
	if budget <= 0 {
		budget = 1 << 30
	}
	sb := &spillBudget{dir: ws.Tmp(), limit: budget / 64}
	b := &builder{
		opts: opts, cfg: opts.Config, ws: ws, sb: sb,
		check:       newRowCheck(opts.Config.ngram(), sb),
		split:       NewSplitAssigner(opts.Seed, opts.Config.splits()),
		grams:       newEvalGrams(opts.Config.ngram()),
		evalK:       map[string]struct{}{},
		shaper:      dialogue.NewShaper(opts.Dialogue),
		lin:         map[string]*fileWriter[LineageRow]{},
		files:       map[schemas.Stage]*[3]splitWriter{},
		stageRows:   map[schemas.Stage]map[string]int64{},
		stageTokens: map[schemas.Stage]int64{},
		m: &Manifest{
			Version: opts.Version, Seed: opts.Seed, ConfigSHA256: opts.ConfigHash,
			Tokens: cmpOr(opts.Config.Tokens, TokensChars), NGram: opts.Config.ngram(), Splits: opts.Config.splits(),
			Stages:  map[schemas.Stage]map[string]*SplitCount{},
			Eval:    map[string]int64{"exam": 0, "qa": 0},
			Sources: map[string]*SourceCount{},
			KGStats: "stages/kg_stats.json",
		},
	}
	for name, k := range opts.Sources {
		b.source(name, k)
	}
	if err := b.open(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			b.abort()
		}
	}()
	if err := b.evalPass(); err != nil {
		return nil, err
	}
	if err := b.trainingKinds(); err != nil {
		return nil, err
	}
	if err := b.close(); err != nil {
		return nil, err
	}
	m, err := b.finish(old)
	if err != nil {
		return nil, err
	}
	if cerr := checkEval(m, opts.EvalSources); cerr != nil {
		return m, cerr // every file is written and closed: nothing to abort
	}
	return m, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (b *builder) open() error {
	var err error
	for _, sp := range schemas.StageTable() {
		b.files[sp.Name] = &[3]splitWriter{}
		b.stageRows[sp.Name] = map[string]int64{}
		for i, split := range schemas.Splits {
			if b.files[sp.Name][i], err = newSplitWriter(sp, b.ws.StageFile(sp.Name, split)); err != nil {
				return err
			}
		}
	}
	if b.exam, err = newFileWriter[schemas.ExamQuestion](b.ws.EvalFile("exam")); err != nil {
		return err
	}
	if b.qa, err = newFileWriter[schemas.EvalQA](b.ws.EvalFile("qa")); err != nil {
		return err
	}
	for _, st := range schemas.Stages {
		b.m.Stages[st] = map[string]*SplitCount{}
		for i, split := range schemas.Splits {
			b.m.Stages[st][split] = &SplitCount{}
			if err := b.openLineage(splitKey(st, i)); err != nil {
				return err
			}
		}
	}
	for _, k := range []string{"eval/exam", "eval/qa"} {
		if err := b.openLineage(k); err != nil {
			return err
		}
	}
	b.laneFiles = map[schemas.Stage]*[3]laneSet{}
	for st, ws := range b.files {
		b.laneFiles[st] = &[3]laneSet{}
		for i, w := range ws {
			if b.laneFiles[st][i], err = newLaneSet(st, w, len(trainingKinds), b.sb); err != nil {
				return err
			}
		}
	}
	b.linFiles = map[string]*laneFile[LineageRow]{}
	for _, st := range schemas.Stages {
		for i := range schemas.Splits {
			k := splitKey(st, i)
			b.linFiles[k] = newLaneFile(b.lin[k], len(trainingKinds), b.sb)
		}
	}
	return nil
}

func (b *builder) openLineage(key string) error {
	w, err := newFileWriter[LineageRow](LineagePath(b.ws, key))
	if err != nil {
		return err
	}
	b.lin[key] = w
	b.order = append(b.order, key)
	return nil
}

// closer is any fileWriter.
type closer interface {
	Close() error
	Abort()
}

// writers lists every writer opened so far, so close and abort stay in step
// with open.
func (b *builder) writers() []closer {
	var ws []closer
	add := func(c closer, ok bool) {
		if ok {
			ws = append(ws, c)
		}
	}
	for _, st := range schemas.Stages {
		if fs := b.files[st]; fs != nil {
			for _, w := range fs {
				add(w, w != nil)
			}
		}
	}
	add(b.exam, b.exam != nil)
	add(b.qa, b.qa != nil)
	for _, k := range b.order {
		add(b.lin[k], true)
	}
	return ws
}

func (b *builder) close() error {
	for st, fs := range b.laneFiles {
		for i, f := range fs {
			if lf := b.linFiles[splitKey(st, i)]; !f.finished() || (lf != nil && !lf.finished()) {
				return fmt.Errorf("stage %s: a kind left rows unwritten", splitKey(st, i))
			}
		}
	}
	for _, w := range b.writers() {
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) abort() {
	for _, fs := range b.laneFiles {
		for _, f := range fs {
			f.abort()
		}
	}
	for _, f := range b.linFiles {
		f.abort()
	}
	b.check.groups.remove()
	b.check.clusters.remove()
	for _, w := range b.writers() {
		w.Abort()
	}
}

func (b *builder) source(name string, k schemas.Kind) *SourceCount {
	s := b.m.Sources[name]
	if s == nil {
		s = newSourceCount(k, b.opts.EvalSources[name])
		b.m.Sources[name] = s
	}
	return s
}

// fate is what became of one clean record: used by some stage, or the first
// reason a row it offered was turned down.
type fate struct {
	used   bool
	reason string
}

func (f *fate) fail(reason string) {
	if f.reason == "" {
		f.reason = reason
	}
}

// tokens counts a row's tokens the configured way.
func (b *builder) tokens(texts ...string) (int64, error) {
	var n int64
	for _, t := range texts {
		if b.m.Tokens == TokensWords {
			ws, err := segment.Words(t)
			if err != nil {
				return 0, err
			}
			n += int64(len(ws))
		} else {
			n += int64(utf8.RuneCountInString(t))
		}
	}
	return n, nil
}

// leaks reports whether a training record touches the eval sets: its group
// key or a question's key is an eval record's (questions must be among
// texts), a line of a question is an
// eval question too short for a window, or one of its texts shares an
// n-gram window with an eval question. Questions are what a row asks
// (a QA question, a prompt, every user turn); texts are every field.
func (b *builder) leaks(group string, questions []string, texts ...string) bool {
	if _, ok := b.evalK[group]; ok {
		return true
	}
	for _, q := range questions {
		// A question a window long or longer that is an eval question
		// shares its windows; every caller passes it among texts too.
		if b.grams.short(q) {
			if _, ok := b.evalK[questionKey(q)]; ok {
				return true
			}
		}
		for line := range strings.SplitSeq(q, "\n") {
			if b.grams.isShortQuestion(line) {
				return true
			}
		}
	}
	for _, t := range texts {
		if b.grams.hits(t) {
			return true
		}
	}
	return false
}

func questionKey(q string) string { return "q:" + schemas.StableID(canonical(q)) }

// row is one stage row on offer: where it goes and what it says.
type row struct {
	stage   schemas.Stage
	source  string
	id      string
	group   string
	records []string
	texts   []string            // what counts as its tokens
	value   func(id string) any // the row as written, under id
}

// emit offers a row to its stage, applying the source's weight and cap and
// the stage's budget, and writes the copies that pass into the group's
// split. It marks the record used, or notes why not.
func (b *builder) emit(f *fate, r row) error {
	sc := b.cfg.stage(r.stage)
	lim := sc.Sources[r.source]
	w := 1.0
	if lim.Weight != nil {
		w = *lim.Weight
	}
	copies := int64(w)
	if frac := w - math.Floor(w); frac > 0 && unit(weightSalt, string(r.stage)+"\x1f"+r.id) < frac {
		copies++
	}
	if copies == 0 {
		if w == 0 {
			f.fail(ReasonWeightZero)
		} else {
			f.fail(ReasonSampledOut)
		}
		return nil
	}
	if lim.Cap > 0 {
		copies = min(copies, lim.Cap-b.stageRows[r.stage][r.source])
		if copies <= 0 {
			f.fail(ReasonOverCap)
			return nil
		}
	}
	tok, err := b.tokens(r.texts...)
	if err != nil {
		return err
	}
	if sc.Budget > 0 {
		if tok > 0 {
			copies = min(copies, (sc.Budget-b.stageTokens[r.stage])/tok)
		}
		if copies <= 0 {
			f.fail(ReasonOverBudget)
			return nil
		}
	}
	split := b.split.Split(r.group)
	key := splitKey(r.stage, split)
	src := b.m.Sources[r.source]
	for c := range copies {
		id := r.id
		if c > 0 {
			id = schemas.StableID(r.id, "copy", fmt.Sprint(c))
		}
		v := r.value(id)
		if err := b.put(r.stage, split, v); err != nil {
			return err
		}
		l := LineageRow{ID: id, Group: r.group, Records: r.records}
		if err := b.linLanes[key].Write(l); err != nil {
			return err
		}
		if err := b.scan.row(b.ws.StageFile(r.stage, schemas.Splits[split]), split, v, l, b); err != nil {
			return err
		}
		for _, t := range r.texts {
			b.m.Throughput.TextBytes += int64(len(t))
		}
		sp := b.m.Stages[r.stage][schemas.Splits[split]]
		sp.Rows++
		sp.Tokens += tok
		src.Rows[key]++
		b.stageRows[r.stage][r.source]++
		b.stageTokens[r.stage] += tok
	}
	f.used = true
	return nil
}

func (b *builder) dcptRow(f *fate, source, kind, id, group string, records []string, text string) error {
	return b.stageRow(f, schemas.StageDCPT, group, records, schemas.DCPTRow{ID: id, Source: source, Kind: kind, Text: text})
}

func (b *builder) sftRow(f *fate, source, kind, id, group string, records []string, msgs []schemas.Turn) error {
	return b.stageRow(f, schemas.StageSFT, group, records, schemas.SFTRow{ID: id, Source: source, Kind: kind, Messages: msgs})
}

func (b *builder) dpoRow(f *fate, source, kind, id, group string, records []string, prompt, chosen, rejected string) error {
	return b.stageRow(f, schemas.StageDPO, group, records,
		schemas.DPORow{ID: id, Source: source, Kind: kind, Prompt: prompt, Chosen: chosen, Rejected: rejected})
}

// stageRow offers a stage row (a schemas.DCPTRow, SFTRow or DPORow, as the
// stage's shape says) to stage st.
func (b *builder) stageRow(f *fate, st schemas.Stage, group string, records []string, r any) error {
	if b.lanes[st] == nil {
		return fmt.Errorf("stage %s is not in the stage table", st)
	}
	rr := row{stage: st, group: group, records: records}
	switch v := r.(type) {
	case schemas.DCPTRow:
		rr.source, rr.id, rr.texts = v.Source, v.ID, []string{v.Text}
		rr.value = func(id string) any { v.ID = id; return v }
	case schemas.SFTRow:
		rr.source, rr.id = v.Source, v.ID
		for _, m := range v.Messages {
			rr.texts = append(rr.texts, m.Content)
		}
		rr.value = func(id string) any { v.ID = id; return v }
	case schemas.DPORow:
		rr.source, rr.id, rr.texts = v.Source, v.ID, []string{v.Prompt, v.Chosen, v.Rejected}
		rr.value = func(id string) any { v.ID = id; return v }
	default:
		return fmt.Errorf("stage %s: %T is no stage row", st, r)
	}
	return b.emit(f, rr)
}

// read streams one kind's clean rows with a progress bar sized by the
// Parquet footers.
//
// Each file is read once: clean names a file after its source, so the eval
// pass reads the eval sources' files of the kinds eval sets take and the
// training pass every other file; a file named after no one source (a
// hand-made clean/) is read by both, each pass taking its own rows.
func read[T any](b *builder, k schemas.Kind, fn func(*T) error) error {
	dir := b.ws.Clean(k)
	all, err := schemas.PartFiles(dir)
	if err != nil {
		return err
	}
	var files []string
	var total int64
	for _, f := range all {
		src, eval := b.fileSource(f)
		read, count := true, true
		if isEvalKind(k) {
			switch {
			case b.pass == passEval:
				read, count = eval || src == "", eval
			case eval:
				read = false
			}
		}
		if !read {
			continue
		}
		files = append(files, f)
		n, err := schemas.CountRows(f)
		if err != nil {
			return err
		}
		total += n
		if !count {
			continue
		}
		b.m.Throughput.CleanRows += n
		if st, err := os.Stat(f); err == nil {
			b.m.Throughput.CleanBytes += st.Size()
		}
	}
	bar := b.startBar("stages "+string(k), total)
	defer bar.Finish()
	for _, f := range files {
		want, _ := b.fileSource(f)
		for r, err := range schemas.ReadFile[T](f) {
			if err != nil {
				return err
			}
			src, id, cluster := recordKey(&r)
			if want != "" && src != want {
				return fmt.Errorf("%s: row %s is of source %q, not of the source the file is named after", f, id, src)
			}
			if b.stop != nil && b.stop.Load() {
				return errStopped
			}
			b.cur.id, b.cur.cluster = id, cluster
			if err := fn(&r); err != nil {
				return err
			}
			bar.Add(1)
		}
	}
	return nil
}

// isEvalKind says which kinds of eval source make eval rows.
func isEvalKind(k schemas.Kind) bool {
	return k == schemas.KindExam || k == schemas.KindQA || k == schemas.KindDialogue
}

// trainRecord counts an eval source's record of a kind no eval set takes
// and reports whether the record is for training.
func (b *builder) trainRecord(source string, k schemas.Kind) bool {
	if !b.opts.EvalSources[source] {
		return true
	}
	if !isEvalKind(k) {
		b.source(source, k).settle(false, ReasonEvalKindUnused, 1)
	}
	return false
}

// evalPass writes the eval sets from eval sources and indexes their
// questions, before any training row is written.
func (b *builder) evalPass() error {
	if len(b.opts.EvalSources) == 0 {
		return nil
	}
	b.pass = passEval
	defer func() { b.pass = passTrain }()
	evalRow := func(src *SourceCount, key string, group, id string, records []string) error {
		src.Rows[key]++
		src.settle(true, "", 1)
		b.m.Eval[strings.TrimPrefix(key, "eval/")]++
		return b.lin[key].Write(LineageRow{ID: id, Group: group, Records: records})
	}
	addKeys := func(group, q string) {
		b.evalK[group] = struct{}{}
		b.evalK[questionKey(q)] = struct{}{}
		b.grams.add(q)
		b.check.addEval(q, b.cur.id, b.cur.cluster)
	}
	err := read(b, schemas.KindExam, func(q *schemas.ExamQuestion) error {
		if !b.opts.EvalSources[q.Source] {
			return nil
		}
		src := b.source(q.Source, schemas.KindExam)
		if _, ok := examOptions(q); !ok {
			src.settle(false, ReasonExamBadAnswer, 1)
			return nil
		}
		group := groupKey(q.Cluster, q.Question)
		addKeys(group, q.Question)
		if err := b.exam.Write(*q); err != nil {
			return err
		}
		return evalRow(src, "eval/exam", group, q.ID, []string{q.ID})
	})
	if err != nil {
		return err
	}
	qa := func(src *SourceCount, id, source, group, question, answer string) error {
		addKeys(group, question)
		if err := b.qa.Write(schemas.EvalQA{ID: id, Source: source, Question: question, Answer: answer}); err != nil {
			return err
		}
		return evalRow(src, "eval/qa", group, id, []string{id})
	}
	err = read(b, schemas.KindQA, func(r *schemas.QA) error {
		if !b.opts.EvalSources[r.Source] {
			return nil
		}
		src := b.source(r.Source, schemas.KindQA)
		q, a := strings.TrimSpace(r.Question), strings.TrimSpace(r.Answer)
		if q == "" || a == "" {
			src.settle(false, ReasonEmpty, 1)
			return nil
		}
		return qa(src, r.ID, r.Source, groupKey(r.Cluster, q), q, a)
	})
	if err != nil {
		return err
	}
	return read(b, schemas.KindDialogue, func(d *schemas.Dialogue) error {
		if !b.opts.EvalSources[d.Source] {
			return nil
		}
		src := b.source(d.Source, schemas.KindDialogue)
		parts, why := b.shaper.Shape(d.Turns)
		if why != "" {
			src.settle(false, why, 1)
			return nil
		}
		u, a := firstExchange(parts[0])
		return qa(src, d.ID, d.Source, groupKey(d.Cluster, u), u, a)
	})
}

// firstExchange is the first user turn and the assistant turn after it.
func firstExchange(turns []schemas.Turn) (user, assistant string) {
	if turns[0].Role == schemas.RoleSystem {
		turns = turns[1:]
	}
	return turns[0].Content, turns[1].Content
}

func (b *builder) texts() error {
	return read(b, schemas.KindText, func(r *schemas.Text) error {
		if !b.trainRecord(r.Source, schemas.KindText) {
			return nil
		}
		src, f := b.source(r.Source, schemas.KindText), fate{}
		body := strings.TrimSpace(r.Text)
		if t := strings.TrimSpace(r.Title); t != "" && body != "" && !strings.HasPrefix(body, t) {
			body = t + "\n" + body
		}
		group := groupKey(r.Cluster, body)
		switch {
		case body == "":
			f.fail(ReasonEmpty)
		case b.leaks(group, nil, body):
			f.fail(ReasonEvalOverlap)
		default:
			if err := b.dcptRow(&f, r.Source, string(schemas.KindText), r.ID, group, []string{r.ID}, body); err != nil {
				return err
			}
			if err := b.offer(&f, schemas.KindText, r, r.ID, r.Source, group, []string{r.ID}); err != nil {
				return err
			}
		}
		src.settle(f.used, f.reason, 1)
		return nil
	})
}

func (b *builder) qas() error {
	return read(b, schemas.KindQA, func(r *schemas.QA) error {
		if !b.trainRecord(r.Source, schemas.KindQA) {
			return nil
		}
		src, f := b.source(r.Source, schemas.KindQA), fate{}
		q, a := strings.TrimSpace(r.Question), strings.TrimSpace(r.Answer)
		group := groupKey(r.Cluster, q)
		rec := []string{r.ID}
		switch {
		case q == "" || a == "":
			f.fail(ReasonEmpty)
		case b.leaks(group, []string{q}, q+"\n"+a):
			f.fail(ReasonEvalOverlap)
		default:
			msgs := []schemas.Turn{{Role: schemas.RoleUser, Content: q}, {Role: schemas.RoleAssistant, Content: a}}
			if err := b.sftRow(&f, r.Source, string(schemas.KindQA), r.ID, group, rec, msgs); err != nil {
				return err
			}
			if b.cfg.DCPT.QAAsText {
				if err := b.dcptRow(&f, r.Source, string(schemas.KindQA), r.ID, group, rec, q+"\n"+a); err != nil {
					return err
				}
			}
			if err := b.offer(&f, schemas.KindQA, r, r.ID, r.Source, group, rec); err != nil {
				return err
			}
		}
		src.settle(f.used, f.reason, 1)
		return nil
	})
}

// entityTexts keeps the entity strings long enough to be text rather than
// names: 2n characters or more. A name (a disease, a drug, a symptom) is
// what an exam question asks about and says, however long it is; a tail of
// two windows' length or more is a phrase, and one that shares a window with
// an eval question may be a copy of it.
func entityTexts(entities []string, n int) []string {
	var out []string
	for _, e := range entities {
		if utf8.RuneCountInString(e) >= 2*n {
			out = append(out, e)
		}
	}
	return out
}

// KGQAText is how a KG→QA pair reads as DCPT text (unless kg.Config.NoDCPTQA):
// plain "问：…\n答：…", no chat template, since DCPT never sees one.
func KGQAText(question, answer string) string { return "问：" + question + "\n答：" + answer }

// graph collects every training triple (the one kind held in memory, see
// kg.Graph), then writes DCPT paragraphs, DCPT QA text and SFT QA pairs per
// head.
//
// Decontamination keeps knowledge: a head leaks when one of its entity
// strings long enough to be text (see entityTexts) shares an n-gram window
// with an eval question, or when a KG→QA question does, not when a rendering
// that joins several facts, or names a disease the question names, happens
// to match one. An exam question that lists a
// disease's symptoms ("主诉低热、神经痛、单侧带状分布的簇集水疱") shares that
// list with the paragraph stating them: that is the fact the exam tests,
// not a copy of the question.

func (b *builder) graph() error {
	g := kg.NewGraph(b.opts.KG)
	b.kgRecs = map[string]kgRecord{}
	defer func() { b.kgRecs = nil }()
	err := read(b, schemas.KindKG, func(t *schemas.Triple) error {
		if !b.trainRecord(t.Source, schemas.KindKG) {
			return nil
		}
		h, tail := kg.EntityNames(*t)
		b.kgRecs[t.ID] = kgRecord{head: h, tail: tail, cluster: t.Cluster}
		if why := g.Add(*t); why != "" {
			b.source(t.Source, schemas.KindKG).settle(false, why, 1)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, h := range g.Heads() {
		src, f := b.source(h.Source, schemas.KindKG), fate{}
		group := g.GroupKey(h.Head)
		ids := h.IDs()
		used := map[string]bool{}
		switch {
		case b.leaks(group, nil, entityTexts(h.Entities(), b.m.NGram)...):
			f.fail(ReasonEvalOverlap)
		case b.opts.KG.NoVerbalize && b.opts.KG.NoQA && b.opts.KG.NoDCPTQA:
			f.fail(ReasonNoStage)
		default:
			if !b.opts.KG.NoVerbalize {
				for i, text := range g.Renderings(h, b.opts.KG.RenderingsOrDefault()) {
					pf := fate{}
					id := schemas.StableID("kg", h.Source, h.Head)
					if i > 0 {
						id = schemas.StableID("kg", h.Source, h.Head, strconv.Itoa(i))
					}
					if err := b.dcptRow(&pf, h.Source, string(schemas.KindKG), id, group, ids, text); err != nil {
						return err
					}
					if pf.used {
						for _, id := range ids {
							used[id] = true
						}
					}
					f.fail(pf.reason)
				}
			}
			// KG→QA pairs go to SFT as chats (one wording per relation) and
			// to DCPT as plain text (every wording, see kg.Graph.QATexts);
			// a triple is used when either took it. A question is checked
			// as a question (its wording could copy an eval question's);
			// an answer only lists the head's facts, checked one entity at
			// a time above.
			var pairs []kg.QAPair
			if !b.opts.KG.NoQA {
				pairs = g.Questions(h, b.opts.KG)
			}
			sft := len(pairs)
			if !b.opts.KG.NoDCPTQA {
				pairs = append(pairs, g.QATexts(h, b.opts.KG)...)
			}
			for i, p := range pairs {
				if b.leaks(group, []string{p.Question}, p.Question) {
					f.fail(ReasonEvalOverlap)
					continue
				}
				qf := fate{}
				if i < sft {
					id := schemas.StableID("kg-qa", h.Source, h.Head, p.Relation)
					msgs := []schemas.Turn{{Role: schemas.RoleUser, Content: p.Question}, {Role: schemas.RoleAssistant, Content: p.Answer}}
					if err := b.sftRow(&qf, h.Source, string(schemas.KindKG), id, group, p.IDs, msgs); err != nil {
						return err
					}
				} else {
					id := schemas.StableID("kg-qa-text", h.Source, h.Head, p.Relation, strconv.Itoa(i-sft))
					if err := b.dcptRow(&qf, h.Source, string(schemas.KindKG), id, group, p.IDs, KGQAText(p.Question, p.Answer)); err != nil {
						return err
					}
				}
				if qf.used {
					for _, id := range p.IDs {
						used[id] = true
					}
				}
				f.fail(qf.reason)
			}
		}
		n := int64(len(used))
		if n > 0 {
			src.settle(true, "", n)
		}
		if rest := int64(len(ids)) - n; rest > 0 {
			src.settle(false, f.reason, rest)
		}
	}
	stats := g.Stats()
	return atomicfile.WriteJSON(KGStatsPath(b.ws), stats)
}

func (b *builder) dialogues() error {
	return read(b, schemas.KindDialogue, func(d *schemas.Dialogue) error {
		if !b.trainRecord(d.Source, schemas.KindDialogue) {
			return nil
		}
		src, f := b.source(d.Source, schemas.KindDialogue), fate{}
		parts, why := b.shaper.Shape(d.Turns)
		if why != "" {
			src.settle(false, why, 1)
			return nil
		}
		u, _ := firstExchange(parts[0])
		group := groupKey(d.Cluster, u)
		var texts, users []string
		for _, p := range parts {
			for _, t := range p {
				texts = append(texts, t.Content)
				if t.Role == schemas.RoleUser {
					users = append(users, t.Content)
				}
			}
		}
		if b.leaks(group, users, texts...) {
			f.fail(ReasonEvalOverlap)
		} else {
			for i, p := range parts {
				id := d.ID
				if len(parts) > 1 {
					id = schemas.StableID(d.ID, "part", fmt.Sprint(i))
				}
				if err := b.sftRow(&f, d.Source, string(schemas.KindDialogue), id, group, []string{d.ID}, p); err != nil {
					return err
				}
			}
			if err := b.offer(&f, schemas.KindDialogue, d, d.ID, d.Source, group, []string{d.ID}); err != nil {
				return err
			}
		}
		src.settle(f.used, f.reason, 1)
		return nil
	})
}

func (b *builder) exams() error {
	return read(b, schemas.KindExam, func(q *schemas.ExamQuestion) error {
		if !b.trainRecord(q.Source, schemas.KindExam) {
			return nil
		}
		src, f := b.source(q.Source, schemas.KindExam), fate{}
		opts, ok := examOptions(q)
		group := groupKey(q.Cluster, q.Question)
		rec := []string{q.ID}
		if !ok {
			src.settle(false, ReasonExamBadAnswer, 1)
			return nil
		}
		prompt := ExamPrompt(q)
		answer := examAnswer(q.Answer, opts, q.Explanation)
		chosen, rejected, pair := examPair(q, opts)
		if b.leaks(group, []string{q.Question}, prompt, answer, chosen, rejected) {
			src.settle(false, ReasonEvalOverlap, 1)
			return nil
		}
		msgs := []schemas.Turn{{Role: schemas.RoleUser, Content: prompt}, {Role: schemas.RoleAssistant, Content: answer}}
		if err := b.sftRow(&f, q.Source, string(schemas.KindExam), q.ID, group, rec, msgs); err != nil {
			return err
		}
		if !b.cfg.DPO.NoExamPairs {
			if pair {
				if err := b.dpoRow(&f, q.Source, string(schemas.KindExam), q.ID, group, rec, prompt, chosen, rejected); err != nil {
					return err
				}
			}
		}
		if err := b.offer(&f, schemas.KindExam, q, q.ID, q.Source, group, rec); err != nil {
			return err
		}
		src.settle(f.used, f.reason, 1)
		return nil
	})
}

func (b *builder) preferences() error {
	return read(b, schemas.KindPreference, func(p *schemas.PreferencePair) error {
		if !b.trainRecord(p.Source, schemas.KindPreference) {
			return nil
		}
		src, f := b.source(p.Source, schemas.KindPreference), fate{}
		prompt, chosen, rejected := strings.TrimSpace(p.Prompt), strings.TrimSpace(p.Chosen), strings.TrimSpace(p.Rejected)
		group := groupKey(p.Cluster, prompt)
		switch {
		case prompt == "" || chosen == "" || rejected == "":
			f.fail(ReasonEmpty)
		case chosen == rejected:
			f.fail(ReasonIdentical)
		case b.leaks(group, []string{prompt}, prompt, chosen, rejected):
			f.fail(ReasonEvalOverlap)
		default:
			if err := b.dpoRow(&f, p.Source, string(schemas.KindPreference), p.ID, group, []string{p.ID}, prompt, chosen, rejected); err != nil {
				return err
			}
			if err := b.offer(&f, schemas.KindPreference, p, p.ID, p.Source, group, []string{p.ID}); err != nil {
				return err
			}
		}
		src.settle(f.used, f.reason, 1)
		return nil
	})
}

// finish hashes every file into the manifest, drops model negatives made
// from a different SFT train split, runs the leakage check and writes the
// manifest last.
func (b *builder) finish(old *Manifest) (*Manifest, error) {
	m := b.m
	add := func(path string, rows int64) error {
		e, err := describe(b.ws, path, rows)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, e)
		return nil
	}
	for _, st := range schemas.Stages {
		for _, w := range b.files[st] {
			if err := add(w.file()); err != nil {
				return nil, err
			}
		}
	}
	if err := add(b.exam.path, b.exam.rows); err != nil {
		return nil, err
	}
	if err := add(b.qa.path, b.qa.rows); err != nil {
		return nil, err
	}
	for _, k := range b.order {
		if err := add(b.lin[k].path, b.lin[k].rows); err != nil {
			return nil, err
		}
	}
	if err := add(KGStatsPath(b.ws), 0); err != nil {
		return nil, err
	}
	if err := b.keepNegatives(old, add); err != nil {
		return nil, err
	}
	slices.SortFunc(m.Files, func(a, c FileEntry) int { return strings.Compare(a.Path, c.Path) })

	m.Totals = *newSourceCount("", false)
	for _, s := range m.Sources {
		m.Totals.In += s.In
		m.Totals.Used += s.Used
		for k, v := range s.Unused {
			m.Totals.Unused[k] += v
		}
		for k, v := range s.Rows {
			m.Totals.Rows[k] += v
		}
	}
	if err := errors.Join(b.check.groups.finish(), b.check.clusters.finish()); err != nil {
		return nil, err
	}
	m.Throughput.Spills = b.sb.spills.Load()
	if b.opts.Check {
		if _, err := CheckLeakage(b.ws, m.NGram); err != nil {
			return nil, err
		}
	}
	m.LeakageCheck = "passed"
	return m, atomicfile.WriteJSON(ManifestPath(b.ws), m)
}

// keepNegatives lists stages/dpo/negatives.parquet in the manifest when it
// was made from the SFT train split this run wrote again byte for byte, and
// deletes it otherwise (its prompts may now sit in valid or test).
func (b *builder) keepNegatives(old *Manifest, add func(string, int64) error) error {
	path := NegativesPath(b.ws)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	sftTrain := "stages/sft/train.parquet"
	var was, now string
	if old != nil {
		for _, f := range old.Files {
			if f.Path == sftTrain {
				was = f.SHA256
			}
		}
	}
	for _, f := range b.m.Files {
		if f.Path == sftTrain {
			now = f.SHA256
		}
	}
	if was == "" || was != now {
		b.opts.Log.Warn("removing model negatives made from another SFT train split; re-run `chimed dpo-negatives`", "file", path)
		return os.Remove(path)
	}
	n, err := schemas.CountRows(path)
	if err != nil {
		return err
	}
	if err := b.checkNegatives(path); err != nil {
		return err
	}
	return add(path, n)
}

// checkNegatives runs the folded check's text scan over the model
// negatives kept: the trainer wrote them, so no builder filtered them.
func (b *builder) checkNegatives(path string) error {
	s := &rowScanner{c: b.check}
	for r, err := range schemas.ReadFile[schemas.DPORow](path) {
		if err != nil {
			return err
		}
		for j, t := range []string{r.Prompt, r.Chosen, r.Rejected} {
			if err := s.text(path, r.ID, t, j == 0); err != nil {
				return err
			}
		}
	}
	return nil
}
