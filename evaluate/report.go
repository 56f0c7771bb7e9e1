package evaluate

import (
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
)

// column is one metric column of eval.md.
type column struct {
	title, key string
	value      func(*StageResult) *float64
	percent    bool
}

var columns = []column{
	{"PPL ↓", "ppl", func(r *StageResult) *float64 { return r.PPL }, false},
	{"Exam acc", "exam_acc", func(r *StageResult) *float64 { return r.ExamAcc }, true},
	{"Exam acc (stated)", "exam_acc_stated", func(r *StageResult) *float64 { return r.ExamAccStated }, true},
	{"Exam acc (cloze)", "exam_acc_cloze", func(r *StageResult) *float64 { return r.ExamAccCloze }, true},
	{"Exam acc (RAG)", "exam_acc_rag", func(r *StageResult) *float64 { return r.ExamAccRAG }, true},
	{"Exam acc (gen)", "exam_acc_gen", func(r *StageResult) *float64 { return r.ExamAccGen }, true},
	{"Exam acc (VoC)", "exam_acc_voc", func(r *StageResult) *float64 { return r.ExamAccVoC }, true},
	{"BLEU-1", "bleu1", func(r *StageResult) *float64 { return r.BLEU1 }, true},
	{"BLEU-2", "bleu2", func(r *StageResult) *float64 { return r.BLEU2 }, true},
	{"BLEU-4", "bleu4", func(r *StageResult) *float64 { return r.BLEU4 }, true},
	{"ROUGE-1", "rouge1", func(r *StageResult) *float64 { return r.Rouge1 }, true},
	{"ROUGE-2", "rouge2", func(r *StageResult) *float64 { return r.Rouge2 }, true},
	{"ROUGE-L", "rougeL", func(r *StageResult) *float64 { return r.RougeL }, true},
	{"Pref acc", "pref_acc", func(r *StageResult) *float64 { return r.PrefAcc }, true},
}

// Table renders the results table in Markdown: one row per evaluated stage,
// each cell the value and its 95% interval, accuracies, BLEU and ROUGE in
// percent.
func (rep *Report) Table() string {
	var b strings.Builder
	b.WriteString("| stage |")
	for _, c := range columns {
		b.WriteString(" " + c.title + " |")
	}
	b.WriteString("\n|---|")
	for range columns {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, row := range rep.rows() {
		r := rep.Stages[row]
		if r == nil {
			continue
		}
		b.WriteString("| " + rowTitle(row) + " |")
		for _, c := range columns {
			b.WriteString(" " + cell(c, r) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString(rep.baselineRows())
	return b.String()
}

// baselineRows renders the model-free rows under the stages: each fills only
// the exam columns it applies to.
func (rep *Report) baselineRows() string {
	bl := rep.Baselines
	if bl == nil {
		return ""
	}
	var b strings.Builder
	row := func(name string, vals map[string]*float64) {
		b.WriteString("| *" + name + "* |")
		for _, c := range columns {
			if v := vals[c.key]; v != nil {
				fmt.Fprintf(&b, " %.1f |", *v*100)
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	row("chance", map[string]*float64{"exam_acc": bl.Chance, "exam_acc_cloze": bl.ClozeChance})
	row("most frequent gold answer ("+bl.MajorityAnswer+")", map[string]*float64{"exam_acc": bl.MajorityLetter})
	if bl.FreqPrior != nil {
		row("frequency prior", map[string]*float64{"exam_acc_cloze": bl.FreqPrior})
	}
	return b.String()
}

// letterTable renders each stage's letter-choice answers beside the gold
// answers' distribution, in percent of the scored questions. Answers of two
// or more labels share one column, so the table stays as wide as the
// option labels.
func (rep *Report) letterTable() string {
	if rep.Baselines == nil {
		return ""
	}
	const several, none = "2+ labels", "none"
	bucket := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			switch {
			case k == "" || k == none:
				out[none] += v
			case utf8.RuneCountInString(k) > 1:
				out[several] += v
			default:
				out[k] += v
			}
		}
		return out
	}
	gold := bucket(rep.Baselines.GoldLetters)
	seen := maps.Clone(gold)
	dists := map[string]map[string]int{}
	for _, row := range rep.rows() {
		if r := rep.Stages[row]; r != nil && r.ExamLetters != nil {
			dists[row] = bucket(r.ExamLetters)
			for k := range dists[row] {
				seen[k]++
			}
		}
	}
	var keys []string
	for _, k := range sortedKeys(seen) {
		if k != several && k != none {
			keys = append(keys, k)
		}
	}
	for _, k := range []string{several, none} {
		if _, ok := seen[k]; ok {
			keys = append(keys, k)
		}
	}
	var b strings.Builder
	b.WriteString("\n## Answers given by letter choice (exam acc), % of questions\n\n| |")
	for _, k := range keys {
		b.WriteString(" " + k + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(keys)) + "\n")
	dist := func(name string, m map[string]int) {
		total := 0
		for _, v := range m {
			total += v
		}
		if total == 0 {
			return
		}
		b.WriteString("| " + name + " |")
		for _, k := range keys {
			fmt.Fprintf(&b, " %.0f |", 100*float64(m[k])/float64(total))
		}
		b.WriteString("\n")
	}
	dist("*gold*", gold)
	for _, row := range rep.rows() {
		if m, ok := dists[row]; ok {
			dist(rowTitle(row), m)
		}
	}
	return b.String()
}

// clozeTable renders cloze accuracy under every normalisation.
func (rep *Report) clozeTable() string {
	var b strings.Builder
	for _, row := range rep.rows() {
		r := rep.Stages[row]
		if r == nil || r.ExamAccClozeBy == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\n## Cloze accuracy by normalisation, %\n\n| stage |")
			for _, n := range ClozeNorms {
				b.WriteString(" " + n + " |")
			}
			b.WriteString("\n|---|" + strings.Repeat("---:|", len(ClozeNorms)) + "\n")
		}
		b.WriteString("| " + rowTitle(row) + " |")
		for _, n := range ClozeNorms {
			ci := r.CI["exam_acc_cloze_"+n]
			fmt.Fprintf(&b, " %.1f [%.1f, %.1f] |", 100*r.ExamAccClozeBy[n], 100*ci.Lo, 100*ci.Hi)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func cell(c column, r *StageResult) string {
	v := c.value(r)
	if v == nil {
		return "–"
	}
	scale, format := 1.0, "%.1f"
	if c.percent {
		scale = 100
	}
	s := fmt.Sprintf(format, *v*scale)
	if ci, ok := r.CI[c.key]; ok {
		s += fmt.Sprintf(" ["+format+", "+format+"]", ci.Lo*scale, ci.Hi*scale)
	}
	return s
}

// rows is the requested row order, or table order for a decoded report.
func (rep *Report) rows() []string {
	if len(rep.order) > 0 {
		return rep.order
	}
	return Rows()
}

// Markdown renders reports/eval.md: the table, then how each number was made.
func (rep *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("# Evaluation\n\n")
	b.WriteString(rep.Table())
	b.WriteString("\n95% intervals in brackets: Wilson score intervals for accuracies, a percentile bootstrap ")
	fmt.Fprintf(&b, "(%d resamples, seed %d) for perplexity (over documents), BLEU and ROUGE (over answers). ", rep.Settings.Bootstrap, rep.Settings.Seed)
	b.WriteString("Accuracies, BLEU and ROUGE in percent. The italic rows are baselines that need no model.\n\n")
	for _, row := range rep.rows() {
		if why, ok := rep.Skipped[row]; ok {
			fmt.Fprintf(&b, "- **%s** skipped: %s\n", rowTitle(row), why)
		}
	}
	b.WriteString("\n## Items scored\n\n| stage | ppl docs | ppl tokens | exam | exam multi-answer | exam cloze | exam with passages | open QA | preference pairs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rep.rows() {
		if r := rep.Stages[row]; r != nil {
			n := r.N
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", rowTitle(row),
				n.PPLDocs, n.PPLTokens, n.Exam, n.ExamMulti, n.ExamCloze, n.ExamRAG, n.QA, n.Pref)
		}
	}
	b.WriteString(rep.letterTable())
	b.WriteString(rep.clozeTable())
	if len(rep.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range rep.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	fmt.Fprintf(&b, `
## How each number is made

- **PPL**: exp of the token-weighted mean negative log-likelihood of stages/dcpt/valid documents (every token after the first).
- **Exam acc** (letter choice): the user's turn is the SFT exam template — "%s" (or "%s" for a multiple-choice question), the question, one "X. option" line per option — and the assistant's turn starts "%s". The label alone right after it is the answer: the likeliest of the labels for a single-choice question; a multiple-choice question takes a greedy search over answer strings (every label, then the chosen labels followed by each later label against the chosen labels followed by a newline, until the newline wins). A question counts only when the predicted label set equals the gold set. It shows whether the model maps a letter to the right option by itself.
- **Exam acc (stated)**: the same prompt, but a single-choice answer is read as the template writes it, "<option text>（X）": each of the question's complete answers is scored after "%s" (summed log-probability) and the likeliest one's label is the answer, so the label follows the option text the model finds likeliest; a multiple-choice question, whose template gives labels first, is read as above.
- **Exam acc (cloze)**, after OLMES: the model is not shown the options; each option's text is scored as the continuation of "%s<question>%s" (plain text, the same for every stage), and the %s-normalised score picks the answer (%s). Single-answer questions only (the items table counts them). The variants are in the cloze table below: raw sums, per character, per token, and PMI (minus the option's log-probability after "%s" alone).
- **Baselines**: *chance* guesses uniformly (1/k, or 1/(2^k−1) for a multiple-answer question); *most frequent gold answer* always gives the commonest gold answer of the scored questions themselves (an upper bound for any constant answer); *frequency prior* picks the option whose text occurs in the most stages/dcpt/train documents%s. Ties count as the right share of the tied options.
- **Exam acc (RAG)**: the stated answer over every question, with "%s" and the top %d BM25 passages (jieba words over clean text and knowledge-graph paragraphs; at most %d characters, and no more than fits the model's context beside the prompt, the instruction line giving way when nothing fits beside it) before the question; a question with no room for a passage keeps its plain answer, and the items table counts those that had room.
- **Exam acc (gen)**: greedy generation from the same prompt without "答案：", of at most %d tokens or, where more, one per character of the longest stated answer plus one, parsed for "答案：<option text>（X）", "答案：X" or bare labels at the start.
- **Exam acc (VoC)**, Verification-of-Choice after AntGLM-Med: for each option the model is asked "请逐一核对选项：选项X（…）是否正确？" and the assistant's turn starts "选项X"; a single-choice answer is the option whose "正确" is most likely, a multiple-choice answer every option where "正确" beats "错误" (or the one with the largest margin when none does).
- **BLEU-1/2/4, ROUGE-1/2/L**: greedy answers of at most %d tokens to stages/eval/qa questions, cut into jieba words with the reference; sentence-level BLEU with uniform weights and no smoothing (as nltk's sentence_bleu), ROUGE F1 (ROUGE-L by longest common subsequence); means over answers.
- **Pref acc**: the fraction of stages/dpo/test pairs whose chosen response has a higher mean log-probability per token given the prompt than the rejected one (pref_acc_sum in eval.json compares sums); ties count as wrong.
`, singleInstruction, multiInstruction, answerLead, answerLead, clozeQuestionLead, strings.ReplaceAll(clozeAnswerLead, "\n", "\\n"), rep.Settings.ClozeNorm, clozeWhy, clozeUncondPrompt, freqDocs(rep.Baselines), ragLead, rep.Settings.RAGTopK, rep.Settings.RAGRunes, rep.Settings.ExamTokens, rep.Settings.QATokens)
	if rep.Settings.MaxN > 0 {
		fmt.Fprintf(&b, "- Every set is capped at a deterministic sample of %d rows (the lowest hashes of id with seed %d); every stage sees the same items.\n", rep.Settings.MaxN, rep.Settings.Seed)
	} else {
		b.WriteString("- Every row of every set is scored; every stage sees the same items.\n")
	}
	return b.String()
}

// clozeWhy says in eval.md why ClozeHeadline is the headline.
const clozeWhy = "chosen by measurement on the demo: see ClozeHeadline in evaluate/cloze.go"

func freqDocs(b *Baselines) string {
	if b == nil || b.FreqPrior == nil {
		return " (left out: no stages/dcpt/train)"
	}
	return fmt.Sprintf(" (%d documents)", b.FreqPriorDocs)
}

// StageTiming is one stage's entry in reports/eval-timing.json.
type StageTiming struct {
	Seconds      float64            `json:"seconds"`
	PhaseSeconds map[string]float64 `json:"phase_seconds"`
}

// Timing is reports/eval-timing.json: each stage's wall time, kept apart
// so that eval.json and eval.md are the same bytes for the same models.
func (rep *Report) Timing() map[string]map[string]StageTiming {
	t := map[string]StageTiming{}
	for row, r := range rep.Stages {
		t[row] = StageTiming{Seconds: r.Seconds, PhaseSeconds: r.PhaseSeconds}
	}
	return map[string]map[string]StageTiming{"stages": t}
}

// WriteReports writes reports/eval.json, reports/eval.md and
// reports/eval-timing.json atomically.
func WriteReports(ws workspace.Dir, rep *Report) error {
	if err := atomicfile.WriteJSON(ws.Report("eval-timing.json"), rep.Timing()); err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(ws.Report("eval.json"), rep); err != nil {
		return err
	}
	return atomicfile.WriteFile(ws.Report("eval.md"), []byte(rep.Markdown()))
}
