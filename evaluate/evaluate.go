// Package evaluate scores a language model the way Qilin-Med's results table
// does, one row per training stage (init, DCPT, SFT, DPO): perplexity on the
// DCPT validation split, CMExam-style exam accuracy (option likelihood,
// generated "答案：X", retrieval-augmented, Verification-of-Choice),
// BLEU/ROUGE on held-out open QA over jieba words, and preference accuracy
// on the DPO test split; it writes reports/eval.json and reports/eval.md.
//
// The package does not know how a model is built: it takes a Model (the
// trainer's satisfies it) from a Loader, so it can be tested with a tiny
// character model and run on any stage that has a checkpoint.
package evaluate

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/segment"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Row names of the results table, in order: the untrained model and the
// model after each training stage.
const (
	RowInit = "init"
	RowDCPT = string(schemas.StageDCPT)
	RowSFT  = string(schemas.StageSFT)
	RowDPO  = string(schemas.StageDPO)
)

// Rows lists every row in table order: init, then each stage of the stage
// table (schemas.StageTable) in training order.
func Rows() []string {
	rows := []string{RowInit}
	for _, st := range schemas.Stages {
		rows = append(rows, string(st))
	}
	return rows
}

// rowTitle is a row's label in eval.md, as the paper writes it ("DCPT").
func rowTitle(row string) string {
	if sp, ok := schemas.Spec(schemas.Stage(row)); ok && sp.Title != "" {
		return sp.Title
	}
	return row
}

// Options tunes an evaluation; the zero value gets the defaults below.
type Options struct {
	// MaxN caps every evaluation set at a deterministic sample of this many
	// rows (0 = DefaultMaxN, negative = no cap).
	MaxN int
	// Seed chooses the sample and seeds the bootstrap.
	Seed uint64
	// Batch is how many sequences go to the model per call.
	Batch int
	// QATokens caps a generated open-QA answer; ExamTokens a generated exam answer.
	QATokens, ExamTokens int
	// RAGTopK passages of at most RAGRunes characters in all are prepended in
	// the RAG exam variant (RAGTopK < 0 turns RAG off).
	RAGTopK, RAGRunes int
	// Bars draws progress; Log reports each row. Both may be nil.
	Bars *progress.Bars
	Log  *slog.Logger
}

// Defaults. 200 rows a set is every row of the demo's held-out sets (n = 32
// gave 95% intervals ±15 points wide); with the `small` model the four
// stages then evaluate in about a minute on two cores.
const (
	DefaultMaxN       = 200
	DefaultBatch      = 16
	DefaultQATokens   = 32
	DefaultExamTokens = 8
	DefaultRAGTopK    = 2
	DefaultRAGRunes   = 160
)

func (o Options) withDefaults() Options {
	if o.MaxN == 0 {
		o.MaxN = DefaultMaxN
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.QATokens <= 0 {
		o.QATokens = DefaultQATokens
	}
	if o.ExamTokens <= 0 {
		o.ExamTokens = DefaultExamTokens
	}
	if o.RAGTopK == 0 {
		o.RAGTopK = DefaultRAGTopK
	}
	if o.RAGRunes <= 0 {
		o.RAGRunes = DefaultRAGRunes
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Counts says how many items each metric was computed on.
type Counts struct {
	PPLDocs   int `json:"ppl_docs"`
	PPLTokens int `json:"ppl_tokens"`
	Exam      int `json:"exam"`
	ExamMulti int `json:"exam_multi"`
	ExamRAG   int `json:"exam_rag"`
	// ExamCloze counts the single-answer questions cloze scoring covers.
	ExamCloze int `json:"exam_cloze"`
	QA        int `json:"qa"`
	Pref      int `json:"pref"`
}

// StageResult is one row of the table. A metric whose input is missing is
// null. Accuracies, BLEU and ROUGE are fractions in [0, 1].
type StageResult struct {
	PPL        *float64 `json:"ppl"`
	ExamAcc    *float64 `json:"exam_acc"`
	ExamAccRAG *float64 `json:"exam_acc_rag"`
	BLEU1      *float64 `json:"bleu1"`
	Rouge1     *float64 `json:"rouge1"`
	PrefAcc    *float64 `json:"pref_acc"`
	N          Counts   `json:"n"`

	ExamAccGen *float64 `json:"exam_acc_gen"`
	ExamAccVoC *float64 `json:"exam_acc_voc"`
	// ExamAccStated ranks the question's complete answers as the exam
	// template states them (option text, then its label) and takes the
	// likeliest; ExamAcc reads the label alone right after "答案：", so it
	// shows whether the model maps letters to options by itself.
	ExamAccStated *float64 `json:"exam_acc_stated"`
	// ExamAccCloze is cloze accuracy under ClozeHeadline; ExamAccClozeBy
	// holds every normalisation (ClozeNorms), their intervals in CI as
	// exam_acc_cloze_<norm>.
	ExamAccCloze   *float64           `json:"exam_acc_cloze"`
	ExamAccClozeBy map[string]float64 `json:"exam_acc_cloze_by,omitempty"`
	// ExamLetters counts the answers letter choice (exam_acc) gave, so a
	// model that always answers one letter shows at a glance.
	ExamLetters map[string]int `json:"exam_letters,omitempty"`
	BLEU2       *float64       `json:"bleu2"`
	BLEU4       *float64       `json:"bleu4"`
	Rouge2      *float64       `json:"rouge2"`
	RougeL      *float64       `json:"rougeL"`
	// PrefAccSum compares summed rather than per-token log-probabilities.
	PrefAccSum *float64 `json:"pref_acc_sum"`
	// CI holds the 95% interval of each metric above, by its JSON key:
	// Wilson for accuracies, a seeded percentile bootstrap otherwise.
	CI map[string]Interval `json:"ci"`
	// Seconds is the wall time the stage took and PhaseSeconds splits it by
	// metric group, to show where time goes. They differ from run to run,
	// so they go to reports/eval-timing.json, not eval.json or eval.md.
	Seconds      float64            `json:"-"`
	PhaseSeconds map[string]float64 `json:"-"`
}

func ptr(x float64) *float64 { return &x }

// EvaluateModel scores one model on d.
func EvaluateModel(m Model, d *Data, opts Options) (*StageResult, error) {
	opts = opts.withDefaults()
	start := time.Now()
	r := &StageResult{CI: map[string]Interval{}, PhaseSeconds: map[string]float64{}}
	s := &scorer{m: m, batch: opts.Batch}
	var current string
	var phaseStart time.Time
	endPhase := func() {
		s.bar.Finish()
		s.bar = nil
		if current != "" {
			r.PhaseSeconds[current] = seconds(time.Since(phaseStart))
			opts.Log.Debug("eval phase", "phase", current, "seconds", r.PhaseSeconds[current])
			current = ""
		}
	}
	phase := func(name string, total int) {
		endPhase()
		current, phaseStart = name, time.Now()
		s.bar = opts.Bars.Start(name, int64(total), false)
	}
	defer endPhase()

	if len(d.PPLTexts) > 0 {
		phase("ppl", len(d.PPLTexts))
		if err := perplexity(s, d.PPLTexts, opts.Seed, r); err != nil {
			return nil, err
		}
	}
	if len(d.Exam) > 0 {
		phase("exam", 0)
		if err := exam(s, m, d.Exam, opts, r); err != nil {
			return nil, err
		}
	}
	if len(d.QA) > 0 {
		phase("qa", len(d.QA))
		if err := openQA(s, m, d.QA, opts, r); err != nil {
			return nil, err
		}
	}
	if len(d.Pref) > 0 {
		phase("pref", 2*len(d.Pref))
		if err := preference(s, m, d.Pref, r); err != nil {
			return nil, err
		}
	}
	endPhase()
	r.Seconds = seconds(time.Since(start))
	return r, nil
}

// seconds rounds a duration to a tenth of a second for the report.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*10) / 10 }

// perplexity is exp of the token-weighted mean NLL over the documents; its
// interval resamples documents.
func perplexity(s *scorer, texts []string, seed uint64, r *StageResult) error {
	nll, tok, err := s.nll(texts)
	if err != nil {
		return err
	}
	ppl := func(idx []int) float64 {
		var sn float64
		var st int
		for _, i := range idx {
			sn += nll[i]
			st += tok[i]
		}
		if st == 0 { // a resample of documents too short to predict
			return 1
		}
		return math.Exp(sn / float64(st))
	}
	all := make([]int, len(texts))
	for i := range all {
		all[i] = i
		r.N.PPLTokens += tok[i]
	}
	r.N.PPLDocs = len(texts)
	if r.N.PPLTokens == 0 {
		return fmt.Errorf("perplexity: the model predicted no tokens of %d documents", len(texts))
	}
	r.PPL = ptr(ppl(all))
	r.CI["ppl"] = Bootstrap(len(texts), seed, ppl)
	return nil
}

// accuracy stores k of n as a fraction with its Wilson interval.
func accuracy(r *StageResult, key string, k, n int) *float64 {
	r.CI[key] = Wilson(k, n)
	return ptr(float64(k) / float64(n))
}

// exam scores the questions six ways: the label alone (letter choice),
// the answer as the exam template states it (statedAnswers: the likeliest
// complete answer, option text then label), the likelihood of each
// option's text (cloze, single-answer questions only), the stated answer
// with retrieved passages, a generated answer, and Verification-of-Choice. A question counts as right only when the predicted
// label set equals the gold set.
func exam(s *scorer, m Model, cases []*examCase, opts Options, r *StageResult) error {
	n := len(cases)
	r.N.Exam = n
	prompts := make([]string, n)
	for i, c := range cases {
		prompts[i] = m.ChatPrompt(userTurn(c.user)) + answerLead
		if isMulti(c.q) {
			r.N.ExamMulti++
		}
	}
	count := func(pred []string) int {
		k := 0
		for i, p := range pred {
			if p == cases[i].gold {
				k++
			}
		}
		return k
	}

	t0 := time.Now()
	labels := make([][]string, n)
	multi := make([]bool, n)
	for i, c := range cases {
		labels[i], multi[i] = c.labels, isMulti(c.q)
	}
	letters, err := likelihoodAnswers(s, prompts, labels, multi)
	if err != nil {
		return fmt.Errorf("exam: %w", err)
	}
	r.PhaseSeconds["exam_likelihood"] = seconds(time.Since(t0))
	r.ExamAcc = accuracy(r, "exam_acc", count(letters), n)
	r.ExamLetters = map[string]int{}
	for _, p := range letters {
		r.ExamLetters[cmp.Or(p, "none")]++
	}

	t0 = time.Now()
	pred, err := statedAnswers(s, prompts, cases)
	if err != nil {
		return fmt.Errorf("exam (stated answer): %w", err)
	}
	r.ExamAccStated = accuracy(r, "exam_acc_stated", count(pred), n)
	r.PhaseSeconds["exam_stated"] = seconds(time.Since(t0))

	t0 = time.Now()
	if err := cloze(s, cases, r); err != nil {
		return err
	}
	r.PhaseSeconds["exam_cloze"] = seconds(time.Since(t0))

	if hasPassages(cases) {
		// Only questions with room for a passage are scored again; the
		// others' RAG prompt is the plain prompt, so their answer stands.
		t0 := time.Now()
		ragPred := slices.Clone(pred)
		var idx []int
		var rp []string
		var rc []*examCase
		for i, c := range cases {
			prompt, ok := ragPrompt(m, c)
			if !ok {
				continue
			}
			idx = append(idx, i)
			rp, rc = append(rp, prompt), append(rc, c)
		}
		p, err := statedAnswers(s, rp, rc)
		if err != nil {
			return fmt.Errorf("exam (RAG): %w", err)
		}
		for j, i := range idx {
			ragPred[i] = p[j]
		}
		r.N.ExamRAG = len(idx)
		r.ExamAccRAG = accuracy(r, "exam_acc_rag", count(ragPred), n)
		r.PhaseSeconds["exam_rag"] = seconds(time.Since(t0))
	}

	t0 = time.Now()
	gp := make([]string, n)
	for i, c := range cases {
		gp[i] = m.ChatPrompt(userTurn(c.user))
	}
	gen, err := s.generate(gp, genExamTokens(cases, opts.ExamTokens))
	if err != nil {
		return fmt.Errorf("exam (generated): %w", err)
	}
	for i, g := range gen {
		gen[i] = ParseAnswer(g, cases[i].labels)
	}
	r.ExamAccGen = accuracy(r, "exam_acc_gen", count(gen), n)
	r.PhaseSeconds["exam_gen"] = seconds(time.Since(t0))

	t0 = time.Now()

	voc, err := verifyAnswers(s, m, cases)
	if err != nil {
		return fmt.Errorf("exam (verification of choice): %w", err)
	}
	r.ExamAccVoC = accuracy(r, "exam_acc_voc", count(voc), n)
	r.PhaseSeconds["exam_voc"] = seconds(time.Since(t0))
	return nil
}

// ContextWindow is implemented by a Model whose context is bounded. The RAG
// variant then keeps only as much passage text as fits beside the prompt:
// a model that drops a long prompt's beginning would otherwise drop exactly
// the prepended passages.
type ContextWindow interface {
	// ContextTokens is the longest sequence the model reads.
	ContextTokens() int
	// CountTokens is how many tokens s encodes to.
	CountTokens(s string) int
}

// ragReserve leaves room in the context for the scored answer labels.
const ragReserve = 8

// window is a model's context and token counter; without ContextWindow,
// effectively unbounded and one token per character.
func window(m Model) (int, func(string) int) {
	if c, ok := m.(ContextWindow); ok && c.ContextTokens() > 0 {
		return c.ContextTokens(), c.CountTokens
	}
	return math.MaxInt32, utf8.RuneCountInString
}

// ragPrompt puts a question's retrieved passages before its prompt, as many
// as fit the model's context beside it; when none fits beside the
// instruction line, the line is dropped to make room. ok is false when no
// passage fits even then.
func ragPrompt(m Model, c *examCase) (prompt string, ok bool) {
	ctx, count := window(m)
	for _, instruction := range []bool{true, false} {
		plain := m.ChatPrompt(userTurn(examBlock(c.q, nil, instruction))) + answerLead
		passages := fitPassages(c.ragCtx, ctx-count(plain)-ragReserve, count)
		if len(passages) > 0 {
			return m.ChatPrompt(userTurn(examBlock(c.q, passages, instruction))) + answerLead, true
		}
	}
	return "", false
}

func hasPassages(cases []*examCase) bool {
	for _, c := range cases {
		if len(c.ragCtx) > 0 {
			return true
		}
	}
	return false
}

// fitPassages keeps passages, best first, within budget tokens as count
// measures them (the "参考资料：" line and the newlines count too), cutting
// the last one short; a piece of under ragMinRunes characters is not worth
// prepending.
func fitPassages(passages []string, budget int, count func(string) int) []string {
	budget -= count(ragLead + "\n")
	var out []string
	for _, p := range passages {
		room := budget - count("\n")
		rs := []rune(p)
		if len(rs) > room { // a character is at least one token
			rs = rs[:max(0, room)]
		}
		for len(rs) >= ragMinRunes && count(string(rs)) > room {
			rs = rs[:len(rs)-max(1, count(string(rs))-room)]
		}
		if len(rs) < ragMinRunes {
			break
		}
		out = append(out, string(rs))
		budget -= count(string(rs)) + count("\n")
	}
	return out
}

// ragMinRunes is the shortest passage piece worth prepending.
const ragMinRunes = 12

// openQA generates an answer to each held-out question from the model's chat
// prompt and scores it against the reference over jieba words; each metric
// is the mean of per-answer scores.
func openQA(s *scorer, m Model, qa []schemas.EvalQA, opts Options, r *StageResult) error {
	prompts := make([]string, len(qa))
	for i, q := range qa {
		prompts[i] = m.ChatPrompt(userTurn(q.Question))
	}
	gen, err := s.generate(prompts, opts.QATokens)
	if err != nil {
		return fmt.Errorf("open QA: %w", err)
	}
	cols := make([][]float64, 6)
	for i, g := range gen {
		// A byte-fallback tokenizer can stop inside a character; jieba
		// wants valid UTF-8.
		cw, err := segment.Words(strings.ToValidUTF8(g, ""))
		if err != nil {
			return err
		}
		rw, err := segment.Words(qa[i].Answer)
		if err != nil {
			return err
		}
		sc := ScoreQA(cw, rw)
		for j, v := range []float64{sc.BLEU1, sc.BLEU2, sc.BLEU4, sc.Rouge1, sc.Rouge2, sc.RougeL} {
			cols[j] = append(cols[j], v)
		}
	}
	dst := []**float64{&r.BLEU1, &r.BLEU2, &r.BLEU4, &r.Rouge1, &r.Rouge2, &r.RougeL}
	for j, key := range []string{"bleu1", "bleu2", "bleu4", "rouge1", "rouge2", "rougeL"} {
		*dst[j] = ptr(mean(cols[j]))
		r.CI[key] = BootstrapMean(cols[j], opts.Seed+uint64(j))
	}
	r.N.QA = len(qa)
	return nil
}

// preference counts the pairs where the model prefers the chosen response:
// pref_acc compares the mean log-probability per token of each response
// given the prompt (responses differ in length, and a summed score would
// mostly reward the shorter one); pref_acc_sum compares the sums. Ties count
// as wrong.
func preference(s *scorer, m Model, pairs []schemas.DPORow, r *StageResult) error {
	n := len(pairs)
	ps := make([]string, 0, 2*n)
	cs := make([]string, 0, 2*n)
	for _, p := range pairs {
		pr := m.ChatPrompt(userTurn(p.Prompt))
		ps = append(ps, pr, pr)
		cs = append(cs, p.Chosen, p.Rejected)
	}
	lp, tok, err := s.logProb(ps, cs)
	if err != nil {
		return fmt.Errorf("preference: %w", err)
	}
	perTok := func(j int) float64 { return lp[j] / float64(max(1, tok[j])) }
	var k, kSum int
	for i := range pairs {
		if perTok(2*i) > perTok(2*i+1) {
			k++
		}
		if lp[2*i] > lp[2*i+1] {
			kSum++
		}
	}
	r.N.Pref = n
	r.PrefAcc = accuracy(r, "pref_acc", k, n)
	r.PrefAccSum = accuracy(r, "pref_acc_sum", kSum, n)
	return nil
}

// ErrNoRun is what a Loader returns (wrapped) when a row has no trained
// model; Run then skips the row with a note instead of failing.
var ErrNoRun = errors.New("no trained model")

// Loader gives the model of one table row (RowInit, RowDCPT, …).
type Loader func(row string) (Model, error)

// Report is reports/eval.json.
type Report struct {
	Stages map[string]*StageResult `json:"stages"`
	// Skipped says why a requested row has no result.
	Skipped map[string]string `json:"skipped,omitempty"`
	// Totals counts each input's rows before sampling.
	Totals   map[string]int `json:"totals"`
	Passages int            `json:"rag_passages"`
	// Baselines are the exam accuracies priors alone give (nil without an exam).
	Baselines *Baselines `json:"baselines,omitempty"`
	Notes     []string   `json:"notes"`
	Settings  Settings   `json:"settings"`
	// order is the requested row order, for the table.
	order []string
}

// Settings records how the numbers were made.
type Settings struct {
	MaxN       int    `json:"max_n"`
	Seed       uint64 `json:"seed"`
	QATokens   int    `json:"qa_tokens"`
	ExamTokens int    `json:"exam_tokens"`
	RAGTopK    int    `json:"rag_top_k"`
	RAGRunes   int    `json:"rag_runes"`
	Bootstrap  int    `json:"bootstrap_resamples"`
	// ClozeNorm is the normalisation behind exam_acc_cloze.
	ClozeNorm string `json:"cloze_norm"`
}

// Run evaluates each requested row's model on the workspace's held-out data
// and returns the report; WriteReports saves it. A row whose Loader returns
// ErrNoRun is skipped with a note.
func Run(ws workspace.Dir, rows []string, load Loader, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	for _, row := range rows {
		if !isRow(row) {
			return nil, fmt.Errorf("unknown stage %q (want init, dcpt, sft or dpo)", row)
		}
	}
	d, err := LoadData(ws, opts)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Stages: map[string]*StageResult{}, Skipped: map[string]string{},
		Totals: d.Totals, Passages: d.Passages, Notes: d.Notes, order: rows,
		Baselines: baselines(d.Exam, d.OptionDocFreq, d.FreqDocs),
		Settings: Settings{MaxN: opts.MaxN, Seed: opts.Seed, QATokens: opts.QATokens, ExamTokens: opts.ExamTokens,
			RAGTopK: opts.RAGTopK, RAGRunes: opts.RAGRunes, Bootstrap: BootstrapResamples, ClozeNorm: ClozeHeadline},
	}
	for _, row := range rows {
		m, err := load(row)
		if errors.Is(err, ErrNoRun) {
			rep.Skipped[row] = err.Error()
			opts.Log.Warn("eval: row skipped", "stage", row, "why", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("eval %s: %w", row, err)
		}
		res, err := EvaluateModel(m, d, opts)
		if c, ok := m.(io.Closer); ok {
			c.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("eval %s: %w", row, err)
		}
		rep.Stages[row] = res
		if res.ExamAccRAG != nil && res.N.ExamRAG == 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: no exam prompt left room for a passage in the model's context, so exam_acc_rag equals exam_acc", row))
		}
		opts.Log.Info("eval", "stage", row, "seconds", res.Seconds)
	}
	return rep, nil
}

func isRow(s string) bool {
	for _, r := range Rows() {
		if r == s {
			return true
		}
	}
	return false
}
