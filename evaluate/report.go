package evaluate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
)

// tableRowNames are the row labels of eval.md, as the paper writes them.
var tableRowNames = map[string]string{RowInit: "init", RowDCPT: "DCPT", RowSFT: "SFT", RowDPO: "DPO"}

// column is one metric column of eval.md.
type column struct {
	title, key string
	value      func(*StageResult) *float64
	percent    bool
}

var columns = []column{
	{"PPL ↓", "ppl", func(r *StageResult) *float64 { return r.PPL }, false},
	{"Exam acc", "exam_acc", func(r *StageResult) *float64 { return r.ExamAcc }, true},
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

// JSON renders reports/eval.json.
func (rep *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("eval.json: %w", err)
	}
	return append(b, '\n'), nil
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
		b.WriteString("| " + tableRowNames[row] + " |")
		for _, c := range columns {
			b.WriteString(" " + cell(c, r) + " |")
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
	return Rows
}

// Markdown renders reports/eval.md: the table, then how each number was made.
func (rep *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("# Evaluation\n\n")
	b.WriteString(rep.Table())
	b.WriteString("\n95% intervals in brackets: Wilson score intervals for accuracies, a percentile bootstrap ")
	fmt.Fprintf(&b, "(%d resamples, seed %d) for perplexity (over documents), BLEU and ROUGE (over answers). ", rep.Settings.Bootstrap, rep.Settings.Seed)
	b.WriteString("Accuracies, BLEU and ROUGE in percent.\n\n")
	for _, row := range rep.rows() {
		if why, ok := rep.Skipped[row]; ok {
			fmt.Fprintf(&b, "- **%s** skipped: %s\n", tableRowNames[row], why)
		}
	}
	b.WriteString("\n## Items scored\n\n| stage | ppl docs | ppl tokens | exam | exam multi-answer | exam with passages | open QA | preference pairs | seconds |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rep.rows() {
		if r := rep.Stages[row]; r != nil {
			n := r.N
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %.1f |\n", tableRowNames[row],
				n.PPLDocs, n.PPLTokens, n.Exam, n.ExamMulti, n.ExamRAG, n.QA, n.Pref, r.Seconds)
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range rep.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	fmt.Fprintf(&b, `
## How each number is made

- **PPL**: exp of the token-weighted mean negative log-likelihood of stages/dcpt/valid documents (every token after the first).
- **Exam acc**: the user's turn is the SFT exam template — "%s" (or "%s" for a multiple-choice question), the question, one "X. option" line per option — and the assistant's turn starts "%s". A single-choice question takes the label with the highest log-probability; a multiple-choice question takes a greedy search over answer strings (every label, then the chosen labels followed by each later label against the chosen labels followed by a newline, until the newline wins). A question counts only when the predicted label set equals the gold set.
- **Exam acc (RAG)**: the same over every question, with "%s" and the top %d BM25 passages (jieba words over clean text and knowledge-graph paragraphs; at most %d characters, and no more than fits the model's context beside the prompt, the instruction line giving way when nothing fits beside it) before the question; a question with no room for a passage keeps its plain answer, and the items table counts those that had room.
- **Exam acc (gen)**: greedy generation of at most %d tokens from the same prompt without "答案：", parsed for "答案：X" (or bare labels at the start).
- **Exam acc (VoC)**, Verification-of-Choice after AntGLM-Med: for each option the model is asked "请逐一核对选项：选项X（…）是否正确？" and the assistant's turn starts "选项X"; a single-choice answer is the option whose "正确" is most likely, a multiple-choice answer every option where "正确" beats "错误" (or the one with the largest margin when none does).
- **BLEU-1/2/4, ROUGE-1/2/L**: greedy answers of at most %d tokens to stages/eval/qa questions, cut into jieba words with the reference; sentence-level BLEU with uniform weights and no smoothing (as nltk's sentence_bleu), ROUGE F1 (ROUGE-L by longest common subsequence); means over answers.
- **Pref acc**: the fraction of stages/dpo/test pairs whose chosen response has a higher mean log-probability per token given the prompt than the rejected one (pref_acc_sum in eval.json compares sums); ties count as wrong.
`, singleInstruction, multiInstruction, answerLead, ragLead, rep.Settings.RAGTopK, rep.Settings.RAGRunes, rep.Settings.ExamTokens, rep.Settings.QATokens)
	if rep.Settings.MaxN > 0 {
		fmt.Fprintf(&b, "- Every set is capped at a deterministic sample of %d rows (the lowest hashes of id with seed %d); every stage sees the same items.\n", rep.Settings.MaxN, rep.Settings.Seed)
	} else {
		b.WriteString("- Every row of every set is scored; every stage sees the same items.\n")
	}
	return b.String()
}

// WriteReports writes reports/eval.json and reports/eval.md atomically.
func WriteReports(ws workspace.Dir, rep *Report) error {
	js, err := rep.JSON()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(ws.Report("eval.json"), js); err != nil {
		return err
	}
	return atomicfile.WriteFile(ws.Report("eval.md"), []byte(rep.Markdown()))
}
