package evaluate

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Data is the held-out material every stage's model is scored on, read and
// sampled once so that every row of the table sees the same items.
type Data struct {
	PPLTexts []string
	Exam     []*examCase
	QA       []schemas.EvalQA
	Pref     []schemas.DPORow
	// Totals counts the rows each file had before sampling.
	Totals map[string]int
	// Notes says which inputs were missing or sampled.
	Notes []string
	// Passages is how many passages the RAG index held (0 when no exam).
	Passages int
	// OptionDocFreq holds, per exam question, how many stages/dcpt/train
	// documents contain each option's text (nil without that file), over
	// FreqDocs documents: the frequency-prior baseline.
	OptionDocFreq [][]int
	FreqDocs      int
}

// Input names, as Totals and the reports use them.
const (
	InputDCPTValid = "dcpt_valid"
	InputExam      = "exam"
	InputQA        = "qa"
	InputDPOTest   = "dpo_test"
)

// LoadData reads stages/dcpt/valid, stages/eval/exam, stages/eval/qa and
// stages/dpo/test, keeps a deterministic sample of at most opts.MaxN rows of
// each (see Sample), and retrieves the RAG passages of every exam question.
// A missing file leaves its metrics out, with a note.
func LoadData(ws workspace.Dir, opts Options) (*Data, error) {
	opts = opts.withDefaults()
	d := &Data{Totals: map[string]int{}}
	note := func(input, path string, kept, total int) {
		d.Totals[input] = total
		if opts.MaxN > 0 && total > kept {
			d.Notes = append(d.Notes, fmt.Sprintf("%s: a deterministic sample of %d of %d rows (--max-n %d, seed %d)", input, kept, total, opts.MaxN, opts.Seed))
		}
	}
	missing := func(path string) bool {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			d.Notes = append(d.Notes, fmt.Sprintf("%s is missing: its metrics are left out", path))
			return true
		}
		return false
	}

	if p := ws.StageFile(schemas.StageDCPT, "valid"); !missing(p) {
		rows, total, err := Sample(schemas.ReadFile[schemas.DCPTRow](p), opts.MaxN, opts.Seed, func(r schemas.DCPTRow) string { return r.ID })
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if strings.TrimSpace(r.Text) != "" {
				d.PPLTexts = append(d.PPLTexts, r.Text)
			}
		}
		note(InputDCPTValid, p, len(rows), total)
	}
	if p := ws.EvalFile("exam"); !missing(p) {
		rows, total, err := Sample(schemas.ReadFile[schemas.ExamQuestion](p), opts.MaxN, opts.Seed, func(r schemas.ExamQuestion) string { return r.ID })
		if err != nil {
			return nil, err
		}
		for i := range rows {
			q := &rows[i]
			c := &examCase{q: q, labels: labelsOf(q)}
			c.gold = NormalizeAnswer(q.Answer, c.labels)
			if c.gold == "" || len(c.labels) < 2 {
				d.Notes = append(d.Notes, fmt.Sprintf("%s: question %s has no usable answer or fewer than two options; skipped", p, q.ID))
				continue
			}
			c.user = ExamBlock(q, nil)
			d.Exam = append(d.Exam, c)
		}
		note(InputExam, p, len(rows), total)
		if d.OptionDocFreq, d.FreqDocs, err = optionDocFreq(ws, d.Exam); err != nil {
			return nil, err
		}
	}
	if p := ws.EvalFile("qa"); !missing(p) {
		rows, total, err := Sample(schemas.ReadFile[schemas.EvalQA](p), opts.MaxN, opts.Seed, func(r schemas.EvalQA) string { return r.ID })
		if err != nil {
			return nil, err
		}
		d.QA = rows
		note(InputQA, p, len(rows), total)
	}
	if p := ws.StageFile(schemas.StageDPO, "test"); !missing(p) {
		rows, total, err := Sample(schemas.ReadFile[schemas.DPORow](p), opts.MaxN, opts.Seed, func(r schemas.DPORow) string { return r.ID })
		if err != nil {
			return nil, err
		}
		d.Pref = rows
		note(InputDPOTest, p, len(rows), total)
	}
	if len(d.Exam) > 0 && opts.RAGTopK < 0 {
		d.Notes = append(d.Notes, "RAG is off (--rag-k -1): exam_acc_rag is left out")
	}
	if len(d.Exam) > 0 && opts.RAGTopK > 0 {
		idx, err := BuildPassageIndex(ws)
		if err != nil {
			return nil, err
		}
		d.Passages = idx.Len()
		if idx.Len() == 0 {
			d.Notes = append(d.Notes, "clean/text and clean/kg hold no passages: exam_acc_rag is left out")
		}
		if err := d.Retrieve(idx, opts); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Retrieve finds each exam question's top passages (query: the question and
// its options), keeping at most opts.RAGRunes characters of them in all.
func (d *Data) Retrieve(idx *BM25, opts Options) error {
	opts = opts.withDefaults()
	if idx.Len() == 0 {
		return nil
	}
	for _, c := range d.Exam {
		query := c.q.Question
		for _, o := range c.q.Options {
			query += " " + o.Text
		}
		hits, err := idx.Search(query, opts.RAGTopK)
		if err != nil {
			return err
		}
		budget := opts.RAGRunes
		c.ragCtx = c.ragCtx[:0]
		for _, h := range hits {
			rs := []rune(h.Passage)
			if budget <= 0 {
				break
			}
			if len(rs) > budget {
				rs = rs[:budget]
			}
			budget -= len(rs)
			c.ragCtx = append(c.ragCtx, string(rs))
		}
	}
	return nil
}
