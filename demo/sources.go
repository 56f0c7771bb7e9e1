package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// action is one kind of planted record a source can receive.
type action int

const (
	actBrokenJSON action = iota
	actBrokenEncoding
	actMissing
	actFields
	actTooLarge
	actLong
	actUnderCap
	actBareQuote
	actExactSame
	actExactCross
	actNearSame
	actNearCross
	actNearDistinct
	actPII
	actDecoy
	actContamQA
	actContamExam
	actNoise
)

// plant is how many records of one action a source gets at the default scale.
type plant struct {
	act action
	n   int
}

// sourceSpec describes one demo source: its chimed.yaml entry, how its
// records are made and written, and what is planted in it.
type sourceSpec struct {
	name   string
	kind   schemas.Kind
	eval   bool
	preset string
	paths  []string // chimed.yaml paths (globs allowed)
	yaml   string   // extra chimed.yaml keys, one per line, unindented
	base   int      // records at the default scale
	fixed  bool     // does not grow with --scale
	// open creates the source's sink.
	open func(g *generator) (sink, error)
	// make renders one natural record about disease di; nil for sources
	// whose records are listed (kg).
	make func(rd *renderer, di int) (item, bool)
	// list returns every record of a listed source, in order.
	list  func(g *generator) []item
	plant []plant
	note  string // SourceTruth.Note
}

func rec(ws, rel string, gz bool, s *recSink) (sink, error) {
	w, err := createFile(ws, rel, gz)
	if err != nil {
		return nil, err
	}
	s.w = w
	return s, nil
}

// withHeader writes a header line right after the file is created:
// withHeader(rec(…))("a,b,c\n").
func withHeader(sk sink, err error) func(header string) (sink, error) {
	return func(header string) (sink, error) {
		if err != nil {
			return nil, err
		}
		sk.(*recSink).w.write([]byte(header))
		return sk, nil
	}
}

// ---- encoders: one per public shape ------------------------------------

type fromValue struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

func encShareGPT(it *item, _ int64) []byte {
	return append(mustJSON(struct {
		Conversations []fromValue `json:"conversations"`
	}{[]fromValue{{"human", it.question()}, {"gpt", it.answer}}}), '\n')
}

func missShareGPT(it *item, _ int64) []byte {
	return append(mustJSON(struct {
		Conversations []fromValue `json:"conversations"`
	}{[]fromValue{{"human", it.question()}}}), '\n')
}

type alpacaRec struct {
	Instruction string `json:"instruction"`
	Input       string `json:"input"`
	Output      string `json:"output"`
}

func encAlpacaElem(it *item, _ int64) []byte {
	return append([]byte("  "), mustJSON(alpacaRec{it.question(), "", it.answer})...)
}

func missAlpacaElem(it *item, _ int64) []byte {
	return append([]byte("  "), mustJSON(struct {
		Instruction string `json:"instruction"`
		Input       string `json:"input"`
	}{it.question(), ""})...)
}

func encAlpacaLine(it *item, _ int64) []byte {
	return append(mustJSON(alpacaRec{it.question(), "", it.answer}), '\n')
}

func missAlpacaLine(it *item, _ int64) []byte {
	return append(mustJSON(alpacaRec{it.question(), "", ""}), '\n')
}

func encHuatuo26M(it *item, _ int64) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	enc.Encode(struct {
		ID          string   `json:"id"`
		Instruction []string `json:"instruction"`
		Input       string   `json:"input"`
		Output      []string `json:"output"`
	}{"", []string{it.question()}, "", []string{it.answer}})
	return append([]byte("  "), bytes.TrimRight(buf.Bytes(), "\n")...)
}

func encFAQ(it *item, _ int64) []byte {
	return mustJSON(struct {
		Dept     string `json:"科室"`
		Question string `json:"问题"`
		Answer   string `json:"回答"`
	}{it.dept, it.question(), it.answer})
}

func encEvalTSV(it *item, row int64) []byte {
	return csvRecord([]string{fmt.Sprintf("EQ%05d", row+1), it.dept, it.question(), it.answer}, '\t', false)
}

var toyhomSignOffs = []string{
	"感谢您的咨询，期望我的解释对你有所帮助。", "感谢您的进行咨询，希望以上回答对您有帮助。",
	"感谢您的咨询，祝您身体健康。", "以上是对“问题”的建议，感谢您的咨询。",
}

var scaledSignOffs = []string{"[感谢您的咨询|感谢您的进行咨询|谢谢您的信任]，[期望|希望][我的解释|以上回答|这些建议]对[你|您]有所帮助。",
	"感谢您的咨询，[祝您|祝]身体健康。", "以上是对“问题”的建议，感谢您的咨询。"}

func encToyhom(it *item, _ int64) []byte {
	return csvRecord([]string{it.dept, it.title, it.ask, it.answer}, ',', false)
}

func fieldsToyhom(it *item, _ int64) []byte {
	return csvRecord([]string{it.dept, it.title, it.ask}, ',', false)
}

func missToyhom(it *item, _ int64) []byte {
	return csvRecord([]string{it.dept, it.title, it.ask, ""}, ',', false)
}

func encMedDialog(it *item, row int64) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "id=%d\nhttps://demo.chimed.example/consult/flow_team_%d.htm\n\nDescription\n", row+1, 6400000000+row*7)
	for _, kv := range it.desc {
		fmt.Fprintf(&b, "%s： %s\n", kv[0], kv[1])
	}
	b.WriteString("\nDialogue\n")
	for _, t := range it.turns {
		who := "病人："
		if t.Role == schemas.RoleAssistant {
			who = "医生："
		}
		b.WriteString(who + "\n" + t.Content + "\n")
	}
	b.WriteString("\n")
	return []byte(b.String())
}

func encDISC(it *item, row int64) []byte {
	return append(mustJSON(struct {
		ID           string         `json:"_id"`
		Source       string         `json:"source"`
		Conversation []schemas.Turn `json:"conversation"`
	}{fmt.Sprintf("01-%d", 90000+row*13), "meddial", it.turns}), '\n')
}

func missDISC(_ *item, row int64) []byte {
	return append(mustJSON(struct {
		ID     string `json:"_id"`
		Source string `json:"source"`
	}{fmt.Sprintf("01-%d", 90000+row*13), "meddial"}), '\n')
}

type rewardRec struct {
	Question string `json:"question"`
	Chosen   string `json:"response_chosen"`
	Rejected string `json:"response_rejected"`
}

func encReward(it *item, _ int64) []byte {
	return append(mustJSON(rewardRec{it.prompt, it.chosen, it.rejected}), '\n')
}

func missReward(it *item, row int64) []byte {
	if row%2 == 0 {
		return append(mustJSON(rewardRec{it.prompt, "", it.rejected}), '\n')
	}
	return append(mustJSON(struct {
		Question string `json:"question"`
		Chosen   string `json:"response_chosen"`
	}{it.prompt, it.chosen}), '\n')
}

func encDPO(it *item, _ int64) []byte {
	var conv []fromValue
	if it.system != "" {
		conv = append(conv, fromValue{"system", it.system})
	}
	conv = append(conv, fromValue{"human", it.prompt})
	return append(mustJSON(struct {
		Conversations []fromValue `json:"conversations"`
		Chosen        string      `json:"chosen"`
		Rejected      string      `json:"rejected"`
	}{conv, it.chosen, it.rejected}), '\n')
}

func missDPO(it *item, _ int64) []byte {
	return append(mustJSON(struct {
		Conversations []fromValue `json:"conversations"`
		Rejected      string      `json:"rejected"`
	}{[]fromValue{{"human", it.prompt}}, it.rejected}), '\n')
}

// encMongo renders a QASystemOnMedicalKG record as mongoexport wrote it:
// `{ "key" : value, … }` with spaced lists, no line ending (the sink puts
// CRLF between records and none after the last).
func encMongo(g *generator) func(it *item, row int64) []byte {
	return func(it *item, row int64) []byte {
		d := &g.ds[it.disease]
		str := func(s string) string { return jsonString(s) }
		lst := func(xs []string) string {
			q := make([]string, len(xs))
			for i, x := range xs {
				q[i] = jsonString(x)
			}
			if len(q) == 0 {
				return "[ ]"
			}
			return "[ " + strings.Join(q, ", ") + " ]"
		}
		numbered := func(xs []string) string {
			parts := make([]string, len(xs))
			for i, x := range xs {
				parts[i] = fmt.Sprintf("%d、%s。", i+1, x)
			}
			return strings.Join(parts, "\n")
		}
		drugDetail := make([]string, len(d.Drugs))
		for i, x := range d.Drugs {
			drugDetail[i] = fmt.Sprintf("%s制药%s(%s)", []string{"华康", "仁和", "济民", "康宁"}[(i+it.disease)%4], x, x)
		}
		fields := [][2]string{
			{"_id", fmt.Sprintf(`{ "$oid" : "5bb578b6831b973a137e%04x" }`, 0x3ee6+row)},
			{"name", str(d.Name)},
			{"desc", str(d.Name + "是" + d.Desc + "，多见于" + d.People + "。")},
			{"category", lst([]string{"疾病百科", d.Category, d.Dept})},
			{"prevent", str(numbered(d.Prevent))},
			{"cause", str(d.Name + "的病因包括" + list(d.Causes) + "。")},
			{"symptom", lst(d.Symptoms)},
			{"yibao_status", str([]string{"是", "否"}[row%2])},
			{"get_prob", str(fmt.Sprintf("%.1f%%", 0.1+float64(row%30)/10))},
			{"easy_get", str(d.People)},
			{"get_way", str("无传染性")},
			{"acompany", lst(d.Complic)},
			{"cure_department", lst([]string{d.Category, d.Dept})},
			{"cure_way", lst(d.Treat)},
			{"cure_lasttime", str([]string{"1-3个月", "长期随访", "2-4周", "3-6个月"}[row%4])},
			{"cured_prob", str([]string{"85%", "可控制", "90%以上", "70%"}[row%4])},
			{"common_drug", lst(d.Drugs[:min(2, len(d.Drugs))])},
			{"cost_money", str("根据不同医院，收费标准不一致")},
			{"check", lst(d.Tests)},
			{"do_eat", lst(d.DoEat)},
			{"not_eat", lst(d.NotEat)},
			{"recommand_eat", lst(nil)},                             // (upstream: recipes; the fact base has none)
			{"recommand_drug", lst(d.Drugs[min(2, len(d.Drugs)):])}, // disjoint from common_drug: no triple twice
			{"drug_detail", lst(drugDetail)},
		}
		parts := make([]string, len(fields))
		for i, kv := range fields {
			parts[i] = jsonString(kv[0]) + " : " + kv[1]
		}
		return []byte("{ " + strings.Join(parts, ", ") + " }")
	}
}

func encSPO(it *item, _ int64) []byte {
	return []byte(strings.Join(it.triple[:], "\t") + "\n")
}

func fieldsSPO(it *item, _ int64) []byte {
	return []byte(it.triple[0] + "\t" + it.triple[2] + "\n")
}

func optionLines(q *schemas.ExamQuestion, sep string) string {
	parts := make([]string, len(q.Options))
	for i, o := range q.Options {
		parts[i] = o.Label + " " + o.Text
	}
	return strings.Join(parts, sep)
}

const cmexamHeader = "\ufeffQuestion,Options,Answer,Explanation,Disease Group,Area of Competency,Clinical Department,Medical Discipline,Difficulty level\r\n"

func encCMExam(g *generator) func(it *item, row int64) []byte {
	return func(it *item, row int64) []byte {
		q := &it.exam
		d := &g.ds[it.disease]
		return csvRecord([]string{q.Question, optionLines(q, "\n"), q.Answer, q.Explanation,
			[]string{"不符合", d.Category + "疾病"}[row%2], []string{"临床知识", "不符合"}[row%2], d.Dept, "临床医学", fmt.Sprint(1 + row%5)}, ',', true)
	}
}

func cellsCMExamXLSX(it *item) []any {
	q := &it.exam
	return []any{q.Question, optionLines(q, `\n`), q.Answer, q.Explanation}
}

func cmmluCells(it *item, row int64) []string {
	q := &it.exam
	cells := []string{fmt.Sprint(row), q.Question}
	for _, o := range q.Options {
		cells = append(cells, o.Text)
	}
	return append(cells, q.Answer)
}

func encCMMLU(it *item, row int64) []byte { return csvRecord(cmmluCells(it, row), ',', false) }

func fieldsCMMLU(it *item, row int64) []byte {
	c := cmmluCells(it, row)
	return csvRecord(append(c[:5:5], c[6]), ',', false)
}

// ---- the demo's sources -------------------------------------------------

// Raw file paths, workspace-relative.
const (
	pathEvalQA      = "raw/eval/qa_heldout.tsv"
	pathEvalExam    = "raw/eval/cmexam_test.csv"
	pathPretrain    = "raw/text/medical_encyclopedia.txt"
	pathCapped      = "raw/text/textbook_notes.txt"
	pathShareGPT    = "raw/qa/medical_sft.jsonl"
	pathShareGPTGz  = "raw/qa/medical_sft_more.jsonl.gz"
	pathAlpaca      = "raw/qa/alpaca_med.json"
	pathLlama       = "raw/qa/llama_data.json"
	pathHuatuo      = "raw/qa/huatuo26M_test.json"
	pathCMedQAQ     = "raw/qa/cmedqa2/question.csv"
	pathCMedQAA     = "raw/qa/cmedqa2/answer.csv"
	pathFAQ         = "raw/qa/faq_kb.json"
	pathToyhom      = "raw/dialogue/内科5000-6000.csv"
	pathMedDialog   = "raw/dialogue/meddialog_zh.txt"
	pathDISC        = "raw/dialogue/disc_med.jsonl"
	pathReward      = "raw/preference/reward_medical.json"
	pathDPO         = "raw/preference/dpo_zh.jsonl"
	pathMongo       = "raw/kg/medical.json"
	pathSPO         = "raw/kg/medical.spo"
	pathXLSX        = "raw/exam/cmexam_train.xlsx"
	pathCMMLUTest   = "raw/exam/cmmlu/test/clinical_knowledge.csv"
	pathCMMLUDev    = "raw/exam/cmmlu/dev/clinical_knowledge.csv"
	capBytes        = 256 << 10 // pretrain-capped's max_record_bytes
	longRecordBytes = 1100 << 10
)

func qaMaker(rd *renderer, di int) (item, bool) {
	return rd.qa(di, rd.r.IntN(numQTypes), false), true
}

func textMaker(rd *renderer, di int) (item, bool) { return rd.text(di, false), true }

func toyhomMaker(rd *renderer, di int) (item, bool) {
	it := rd.qa(di, rd.r.IntN(numQTypes), false)
	if it.ask == "" {
		it.ask = rd.ask(&rd.ds[di], rd.patient(&rd.ds[di]))
	}
	if rd.r.chance(0.3) { // ASCII commas in Chinese text, as in the real file: quoted cells
		it.answer = strings.Replace(it.answer, "，", ",", 2)
	}
	if rd.r.chance(0.05) { // a line break inside a quoted answer
		it.answer = strings.Replace(it.answer, "。", "。\n", 1)
	}
	if rd.scaled { // the sign-off ends the last sentence, so it does not repeat as one
		it.answer = strings.TrimSuffix(strings.TrimSuffix(it.answer, "。"), "！") + "，" + rd.expand(pick(rd.r, scaledSignOffs), rd.vocab)
	} else {
		it.answer += pick(rd.r, toyhomSignOffs)
	}
	toyhomTurns(&it)
	return it, true
}

// toyhomTurns sets the dialogue turns a consultation row maps to.
func toyhomTurns(it *item) {
	it.kind, it.consult = schemas.KindDialogue, true
	it.turns = []schemas.Turn{{Role: schemas.RoleUser, Content: it.title + it.ask}, {Role: schemas.RoleAssistant, Content: it.answer}}
}

func dialogueMaker(rd *renderer, di int) (item, bool) { return rd.dialogue(di), true }

func prefMaker(rd *renderer, di int) (item, bool) {
	return rd.preference(di, rd.r.IntN(qCase)), true
}

func examMaker(n int, eval, explain bool) func(rd *renderer, di int) (item, bool) {
	return func(rd *renderer, di int) (item, bool) {
		et := rd.r.IntN(numETypes)
		if n == 4 && et == eMultiSymptom {
			et = eSymptom
		}
		return rd.exam(di, et, n, eval, explain)
	}
}

// sourceSpecs lists the demo's sources in generation order: eval sets first
// (training data is kept free of their questions, except where planted),
// then sources whose records later sources copy.
func (g *generator) sourceSpecs() []*sourceSpec {
	ws := g.ws
	return []*sourceSpec{
		{name: "qa-heldout", kind: schemas.KindQA, eval: true, paths: []string{pathEvalQA}, base: 200, fixed: true,
			yaml: "format: tsv\nmap:\n  fields: {question: 问题, answer: 参考答案, category: 科室}",
			open: func(g *generator) (sink, error) {
				return withHeader(rec(ws, pathEvalQA, false, &recSink{enc: encEvalTSV}))("编号\t科室\t问题\t参考答案\n")
			},
			make: func(rd *renderer, di int) (item, bool) { return rd.qa(di, rd.r.IntN(numQTypes), true), true }},
		{name: "cmexam-test", kind: schemas.KindExam, eval: true, preset: "cmexam-csv", paths: []string{pathEvalExam}, base: 200, fixed: true,
			open: func(g *generator) (sink, error) {
				return withHeader(rec(ws, pathEvalExam, false, &recSink{enc: encCMExam(g)}))(cmexamHeader)
			},
			make: examMaker(5, true, true)},
		{name: "encyclopedia", kind: schemas.KindText, preset: "medicalgpt-pretrain", paths: []string{pathPretrain}, base: 1200,
			open: func(g *generator) (sink, error) { return rec(ws, pathPretrain, false, &recSink{enc: encText}) },
			make: textMaker,
			plant: []plant{{actBrokenEncoding, 2}, {actLong, 1}, {actExactSame, 3}, {actNearSame, 4},
				{actContamQA, 2}, {actContamExam, 1}}},
		{name: "textbook-notes", kind: schemas.KindText, preset: "medicalgpt-pretrain", paths: []string{pathCapped}, base: 150,
			yaml:  "max_record_bytes: 256KiB",
			open:  func(g *generator) (sink, error) { return rec(ws, pathCapped, false, &recSink{enc: encText}) },
			make:  textMaker,
			plant: []plant{{actTooLarge, 1}, {actUnderCap, 1}, {actExactCross, 2}, {actNearCross, 2}}},
		{name: "sft-sharegpt", kind: schemas.KindQA, preset: "medicalgpt-sharegpt", paths: []string{pathShareGPT}, base: 1200,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathShareGPT, false, &recSink{enc: encShareGPT, missing: missShareGPT, json: true})
			},
			make: qaMaker,
			plant: []plant{{actBrokenJSON, 3}, {actBrokenEncoding, 1}, {actMissing, 2}, {actLong, 1}, {actExactSame, 3},
				{actNearSame, 4}, {actNearDistinct, 3}, {actPII, 8}, {actDecoy, 4}, {actContamQA, 3}, {actContamExam, 2}, {actNoise, 5}}},
		{name: "sft-sharegpt-more", kind: schemas.KindQA, preset: "medicalgpt-sharegpt", paths: []string{pathShareGPTGz}, base: 400,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathShareGPTGz, true, &recSink{enc: encShareGPT, missing: missShareGPT, json: true})
			},
			make:  qaMaker,
			plant: []plant{{actBrokenJSON, 1}, {actExactCross, 3}, {actNearCross, 2}, {actPII, 2}}},
		{name: "alpaca-med", kind: schemas.KindQA, preset: "alpaca", paths: []string{pathAlpaca}, base: 400,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathAlpaca, false, &recSink{enc: encAlpacaElem, missing: missAlpacaElem,
					open: "[\n", sep: ",\n", end: "\n]\n", noLines: true})
			},
			make:  qaMaker,
			plant: []plant{{actMissing, 1}, {actExactCross, 2}, {actNearDistinct, 2}, {actPII, 2}, {actContamQA, 2}}},
		{name: "huatuo-llama", kind: schemas.KindQA, preset: "alpaca", paths: []string{pathLlama}, base: 400,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathLlama, false, &recSink{enc: encAlpacaLine, missing: missAlpacaLine, json: true})
			},
			make:  qaMaker,
			plant: []plant{{actBrokenJSON, 1}, {actMissing, 1}, {actNearSame, 2}, {actNearDistinct, 2}, {actPII, 1}}},
		{name: "huatuo26m", kind: schemas.KindQA, preset: "huatuo26m", paths: []string{pathHuatuo}, base: 400,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathHuatuo, false, &recSink{enc: encHuatuo26M, open: "[\n", sep: ",\n", end: "\n]\n", noLines: true})
			},
			make:  qaMaker,
			plant: []plant{{actExactCross, 2}, {actNearCross, 2}, {actContamQA, 1}}},
		{name: "cmedqa2", kind: schemas.KindQA, preset: "cmedqa2", paths: []string{pathCMedQAQ, pathCMedQAA}, base: 300,
			open: func(g *generator) (sink, error) {
				q, err := createFile(ws, pathCMedQAQ, false)
				if err != nil {
					return nil, err
				}
				a, err := createFile(ws, pathCMedQAA, false)
				if err != nil {
					return nil, err
				}
				q.write([]byte("question_id,content\n"))
				a.write([]byte("ans_id,question_id,content\n"))
				return &cmedqaSink{q: q, a: a, r: g.rd.r}, nil
			},
			make:  qaMaker,
			plant: []plant{{actPII, 2}, {actNearDistinct, 2}}},
		{name: "faq-kb", kind: schemas.KindQA, paths: []string{pathFAQ}, base: 200,
			yaml: "format: json\nmap:\n  fields: {question: 问题, answer: 回答, category: 科室}",
			open: func(g *generator) (sink, error) {
				return rec(ws, pathFAQ, false, &recSink{enc: encFAQ, open: "{\n", sep: ",\n", end: "\n}\n", noLines: true,
					key: func(row int64) string { return fmt.Sprintf("faq-%05d", row+1) }})
			},
			make:  qaMaker,
			plant: []plant{{actExactSame, 1}, {actPII, 1}}},
		{name: "toyhom-internal", kind: schemas.KindDialogue, preset: "toyhom-csv", paths: []string{pathToyhom}, base: 600,
			open: func(g *generator) (sink, error) {
				return withHeader(rec(ws, pathToyhom, false, &recSink{enc: encToyhom, fields: fieldsToyhom, missing: missToyhom, gbk: true}))(
					"department,title,ask,answer\n")
			},
			make: toyhomMaker,
			plant: []plant{{actBrokenEncoding, 1}, {actFields, 2}, {actMissing, 1}, {actExactSame, 4}, {actBareQuote, 1},
				{actPII, 4}, {actDecoy, 2}, {actNearSame, 2}}},
		{name: "meddialog", kind: schemas.KindDialogue, preset: "meddialog-txt", paths: []string{pathMedDialog}, base: 300,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathMedDialog, false, &recSink{enc: encMedDialog, open: "\n"})
			},
			make:  dialogueMaker,
			plant: []plant{{actPII, 2}, {actNearSame, 2}, {actExactSame, 1}}},
		{name: "disc-med", kind: schemas.KindDialogue, preset: "disc-med", paths: []string{pathDISC}, base: 500,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathDISC, false, &recSink{enc: encDISC, missing: missDISC, json: true})
			},
			make: dialogueMaker,
			plant: []plant{{actBrokenJSON, 2}, {actMissing, 1}, {actExactSame, 2}, {actNearSame, 3},
				{actPII, 4}, {actDecoy, 2}, {actContamQA, 2}, {actNoise, 3}}},
		{name: "reward-medical", kind: schemas.KindPreference, preset: "medicalgpt-reward", paths: []string{pathReward}, base: 400,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathReward, false, &recSink{enc: encReward, missing: missReward, json: true})
			},
			make:  prefMaker,
			plant: []plant{{actBrokenJSON, 1}, {actMissing, 2}, {actExactSame, 2}, {actNearSame, 2}, {actContamQA, 1}}},
		{name: "dpo-zh", kind: schemas.KindPreference, preset: "sharegpt-dpo", paths: []string{pathDPO}, base: 300,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathDPO, false, &recSink{enc: encDPO, missing: missDPO, json: true})
			},
			make:  prefMaker,
			plant: []plant{{actBrokenJSON, 1}, {actExactCross, 2}, {actNearSame, 2}}},
		{name: "kg-diseases", kind: schemas.KindKG, preset: "qasystem-medicalkg", paths: []string{pathMongo}, fixed: true,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathMongo, false, &recSink{enc: encMongo(g), json: true, sep: "\r\n"})
			},
			list: func(g *generator) []item { return g.diseaseItems() },
			note: "each record fans out into many triples; as in the upstream data, a department's belongs_to edge " +
				"(心血管内科 → 内科) repeats in every disease of that department, so clean finds those repeats as exact duplicates " +
				"besides the planted ones; the planted exact_dup record duplicates all of its triples",
			plant: []plant{{actBrokenJSON, 1}, {actExactSame, 1}}},
		{name: "kg-spo", kind: schemas.KindKG, preset: "spo-tsv", paths: []string{pathSPO}, fixed: true,
			open: func(g *generator) (sink, error) {
				return rec(ws, pathSPO, false, &recSink{enc: encSPO, fields: fieldsSPO})
			},
			list:  func(g *generator) []item { return g.spoItems() },
			plant: []plant{{actFields, 2}, {actExactSame, 3}}},
		{name: "cmexam-train", kind: schemas.KindExam, preset: "cmexam-xlsx", paths: []string{pathXLSX}, base: 600,
			open: func(g *generator) (sink, error) {
				return newXLSXSink(ws, pathXLSX, []any{"Question", "Options", "Answer", "Explanation"}, cellsCMExamXLSX)
			},
			make:  examMaker(5, false, true),
			plant: []plant{{actExactSame, 3}, {actContamExam, 3}}},
		{name: "cmmlu-clinical", kind: schemas.KindExam, preset: "cmmlu", paths: []string{"raw/exam/cmmlu/*/*.csv"}, base: 300,
			open: func(g *generator) (sink, error) {
				var m multiSink
				for _, p := range []string{pathCMMLUTest, pathCMMLUDev} {
					s, err := withHeader(rec(ws, p, false, &recSink{enc: encCMMLU, fields: fieldsCMMLU}))(",Question,A,B,C,D,Answer\n")
					if err != nil {
						return nil, err
					}
					m.sinks = append(m.sinks, s)
				}
				return &m, nil
			},
			make:  examMaker(4, false, false),
			plant: []plant{{actFields, 1}, {actExactSame, 2}, {actContamExam, 1}}},
	}
}

func encText(it *item, _ int64) []byte { return []byte(it.text + "\n") }

// diseaseItems lists one KG record per disease of the fact base.
func (g *generator) diseaseItems() []item {
	out := make([]item, len(g.ds))
	for i := range g.ds {
		out[i] = item{kind: schemas.KindKG, disease: i, triple: [3]string{g.ds[i].Name, "desc", g.ds[i].Desc}}
	}
	return out
}

// spoItems lists the CMeKG-style triples of the fact base: entity types and
// symptom→disease, drug→disease links (relations the disease records of
// kg-diseases do not state, so the two sources do not overlap).
func (g *generator) spoItems() []item {
	seen := map[[3]string]bool{}
	var out []item
	add := func(di int, h, r, t string) {
		k := [3]string{h, r, t}
		if !seen[k] {
			seen[k] = true
			out = append(out, item{kind: schemas.KindKG, disease: di, triple: k})
		}
	}
	for i, d := range g.ds {
		add(i, d.Name, "类别", "疾病")
		for _, s := range d.Symptoms {
			add(i, s, "类别", "症状")
			add(i, s, "可能疾病", d.Name)
		}
		for _, x := range d.Drugs {
			add(i, x, "类别", "药品")
			add(i, x, "适应症", d.Name)
		}
		for _, t := range d.Tests {
			add(i, t, "类别", "检查")
		}
		add(i, d.Name, "所属科室", d.Dept)
	}
	return out
}

// yamlEntry renders the source's chimed.yaml entry.
func (s *sourceSpec) yamlEntry() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    kind: %s\n", s.name, s.kind)
	if s.eval {
		b.WriteString("    role: eval\n")
	}
	if s.preset != "" {
		fmt.Fprintf(&b, "    preset: %s\n", s.preset)
	}
	q := make([]string, len(s.paths))
	for i, p := range s.paths {
		q[i] = jsonString(path.Clean(p))
	}
	fmt.Fprintf(&b, "    paths: [%s]\n", strings.Join(q, ", "))
	if s.yaml != "" {
		for _, l := range strings.Split(s.yaml, "\n") {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}
