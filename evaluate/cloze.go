package evaluate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Cloze scoring, after OLMES (arXiv 2406.08446): the model is not shown the
// options; it reads the question and each option's text is scored as the
// continuation of "问题：<question>\n答案：". Letter choice needs a model that
// has learned to map labels to options, which small models do not (they
// answer one letter whatever the question); the likelihood of the option's
// own text shows what a model knows even then.
//
// OLMES compares four ways to turn a continuation's log-probability into a
// score, since longer options collect more negative log-probability:
//
//   - raw: Σ log p(option | prompt);
//   - char: the same divided by the option's characters (OLMES's default);
//   - token: divided by the option's tokens in the model's own tokenizer;
//   - pmi: Σ log p(option | prompt) − Σ log p(option | "答案："), the
//     option's likelihood relative to its likelihood with no question, which
//     cancels how common the option's words are by themselves.
//
// exam_acc_cloze is the headline (ClozeHeadline); every variant is in
// eval.json as exam_acc_cloze_<norm>.
const (
	ClozeRaw   = "raw"
	ClozeChar  = "char"
	ClozeToken = "token"
	ClozePMI   = "pmi"
)

// ClozeNorms lists the normalisations in the order eval.json and eval.md use.
var ClozeNorms = []string{ClozeRaw, ClozeChar, ClozeToken, ClozePMI}

// ClozeHeadline is the normalisation behind exam_acc_cloze, chosen by
// measurement on the demo: PMI scored highest on every trained stage. The
// demo's distractors are real answers to other questions, as CMExam's are,
// so they are as common in training text as the gold option; the raw and
// per-length scores then favour whichever option the model has read most
// often, while PMI rewards the option the question itself makes likelier.
const ClozeHeadline = ClozePMI

// Cloze prompt pieces. The prompt is plain text rather than the model's chat
// template, so that every row of the table, from the untrained model through
// DPO, is asked the same way: DCPT never saw a chat template.
const (
	clozeQuestionLead = "问题："
	clozeAnswerLead   = "\n答案："
	clozeUncondPrompt = "答案："
)

// ClozePrompt is the text each option's text continues.
func ClozePrompt(question string) string {
	return clozeQuestionLead + strings.TrimSpace(question) + clozeAnswerLead
}

// clozeScores scores every option of the single-answer questions among cases
// and returns, per normalisation, the index into cases of each scored
// question and the label each normalisation picks. Multiple-answer questions
// have no cloze form (a set of texts is no continuation) and are left out;
// StageResult.N.ExamCloze says how many were scored.
func clozeScores(s *scorer, cases []*examCase) (scored []int, picks map[string][]string, err error) {
	var ps, uncond, cs []string
	for i, c := range cases {
		if isMulti(c.q) {
			continue
		}
		scored = append(scored, i)
		p := ClozePrompt(c.q.Question)
		for _, o := range c.q.Options {
			ps, cs = append(ps, p), append(cs, strings.TrimSpace(o.Text))
			uncond = append(uncond, clozeUncondPrompt)
		}
	}
	if len(scored) == 0 {
		return nil, nil, nil
	}
	lp, tok, err := s.logProb(ps, cs)
	if err != nil {
		return nil, nil, fmt.Errorf("cloze: %w", err)
	}
	ulp, _, err := s.logProb(uncond, cs)
	if err != nil {
		return nil, nil, fmt.Errorf("cloze (unconditional): %w", err)
	}
	score := func(norm string, j int) float64 {
		switch norm {
		case ClozeChar:
			return lp[j] / float64(max(1, utf8.RuneCountInString(cs[j])))
		case ClozeToken:
			return lp[j] / float64(max(1, tok[j]))
		case ClozePMI:
			return lp[j] - ulp[j]
		default:
			return lp[j]
		}
	}
	picks = map[string][]string{}
	for _, norm := range ClozeNorms {
		out := make([]string, 0, len(scored))
		j := 0
		for _, i := range scored {
			c := cases[i]
			best := -1
			var bestScore float64
			for k := range c.q.Options {
				if v := score(norm, j+k); best < 0 || v > bestScore {
					best, bestScore = k, v
				}
			}
			j += len(c.q.Options)
			out = append(out, c.labels[best])
		}
		picks[norm] = out
	}
	return scored, picks, nil
}

// cloze fills exam_acc_cloze and its variants with their Wilson intervals.
func cloze(s *scorer, cases []*examCase, r *StageResult) error {
	scored, picks, err := clozeScores(s, cases)
	if err != nil || len(scored) == 0 {
		return err
	}
	n := len(scored)
	r.N.ExamCloze = n
	r.ExamAccClozeBy = map[string]float64{}
	for _, norm := range ClozeNorms {
		k := 0
		for j, i := range scored {
			if picks[norm][j] == cases[i].gold {
				k++
			}
		}
		key := "exam_acc_cloze_" + norm
		r.ExamAccClozeBy[norm] = float64(k) / float64(n)
		r.CI[key] = Wilson(k, n)
		if norm == ClozeHeadline {
			r.ExamAccCloze = accuracy(r, "exam_acc_cloze", k, n)
		}
	}
	return nil
}
