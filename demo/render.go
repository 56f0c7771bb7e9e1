package demo

import (
	"fmt"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// item is one generated record before it is written in a source's format.
// Only the fields of its kind are set.
type item struct {
	kind    schemas.Kind
	disease int // index into the fact base; -1 when none
	qtype   int // the template family it came from

	// qa (and toyhom/cmedqa2 consultations): Title is the short question,
	// Ask the patient's description; the question is Title + Ask.
	title, ask, answer, dept string
	consult                  bool // a consultation row (Toyhom) mapped to a dialogue
	// text
	text string
	// dialogue
	turns []schemas.Turn
	desc  [][2]string // MedDialog "Description" key/value lines
	// preference
	prompt, chosen, rejected, system string
	// exam
	exam schemas.ExamQuestion
	// kg: one disease record or one triple
	triple [3]string
}

func (it *item) question() string { return it.title + it.ask }

// canon is the item's text as ingest will map it (RecordText of the
// canonical row): what near-duplicate Jaccards are measured on.
func (it *item) canon() string {
	switch it.kind {
	case schemas.KindQA:
		return it.question() + "\n" + it.answer
	case schemas.KindText:
		if it.title != "" {
			return it.title + "\n" + it.text
		}
		return it.text
	case schemas.KindDialogue:
		parts := make([]string, len(it.turns))
		for i, t := range it.turns {
			parts[i] = t.Content
		}
		return strings.Join(parts, "\n")
	case schemas.KindPreference:
		return it.prompt + "\n" + it.chosen + "\n" + it.rejected
	case schemas.KindExam:
		return RecordText(&it.exam)
	default:
		return strings.Join(it.triple[:], "\n")
	}
}

// needle is a piece of one of the item's fields, for tests to find the
// record by: the start of its main text.
func (it *item) needle() string {
	var s string
	switch {
	case it.consult || it.kind == schemas.KindQA:
		s = it.answer
	case it.kind == schemas.KindText:
		s = it.text
	case it.kind == schemas.KindDialogue:
		s = it.turns[0].Content
	case it.kind == schemas.KindPreference:
		s = it.chosen
	case it.kind == schemas.KindExam:
		s = it.exam.Question
	default:
		s = it.triple[0]
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return firstRunes(s, 16)
}

// needleMissing is a piece of text a record with its answer left out
// still shows: the question, prompt or opening turn.
func (it *item) needleMissing() string {
	switch {
	case it.consult || it.kind == schemas.KindQA:
		return firstRunes(it.title, 8)
	case it.kind == schemas.KindPreference:
		return firstRunes(it.prompt, 8)
	}
	return ""
}

// Question families of the QA, dialogue and preference renderers.
const (
	qSymptom = iota
	qCause
	qDrug
	qTest
	qDiet
	qComplic
	qDept
	qPrevent
	qWhat
	qCase
	numQTypes
)

// renderer turns facts into Chinese sentences with seeded template choices.
type renderer struct {
	r  *rng
	ds []Disease
	// scaled writes training records from the larger space of prose.go
	// (--scale); the default demo and the eval sets leave it off.
	scaled bool
	half   float64 // the current scaled record's rate of half-width punctuation
}

func list(xs []string) string { return strings.Join(xs, "、") }

// fill replaces {Key} slots in a template with the value after "{Key}" in
// kv. A plain scan rather than strings.Replacer: templates are short and a
// Replacer built per call dominated the generator's profile.
func fill(tmpl string, kv ...string) string {
	return fillFunc(tmpl, func(key string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == key {
				return kv[i+1]
			}
		}
		return key
	})
}

// fillFunc replaces each {Key} slot with value("{Key}").
func fillFunc(tmpl string, value func(key string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		b.WriteString(value(tmpl[i : i+j+1]))
		tmpl = tmpl[i+j+1:]
	}
}

// fillFacts fills a template's fact slots from d, drawing list subsets only
// for the slots the template uses.
func (g *renderer) fillFacts(tmpl string, d *Disease) string {
	r := g.r
	return fillFunc(tmpl, func(key string) string {
		switch key {
		case "{X}":
			return d.Name
		case "{Desc}":
			return d.Desc
		case "{People}":
			return d.People
		case "{Dept}":
			return d.Dept
		case "{Cat}":
			return d.Category
		case "{S}":
			return list(some(r, d.Symptoms, 2, 4))
		case "{C}":
			return list(some(r, d.Causes, 2, 3))
		case "{D}":
			return list(some(r, d.Drugs, 1, 3))
		case "{T}":
			return list(some(r, d.Tests, 2, 3))
		case "{Tr}":
			return list(some(r, d.Treat, 1, 3))
		case "{Co}":
			return list(some(r, d.Complic, 1, 3))
		case "{E}":
			return list(some(r, d.DoEat, 2, 3))
		case "{N}":
			return list(some(r, d.NotEat, 2, 3))
		case "{P}":
			return list(some(r, d.Prevent, 2, 3))
		}
		return key
	})
}

// coreTemplates state one family of facts; answers and encyclopedia
// paragraphs are built from them, so both teach the same knowledge.
var coreTemplates = [numQTypes][]string{
	qSymptom: {"{X}的常见症状有{S}。", "{X}患者常表现为{S}等。", "{X}主要表现为{S}，症状轻重因人而异。", "典型的{X}会出现{S}。"},
	qCause:   {"{X}的发生与{C}等因素有关。", "引起{X}的原因主要有{C}。", "{X}多见于{People}，常见诱因包括{C}。", "{C}都可能导致{X}。"},
	qDrug: {"{X}常用的药物有{D}，具体用药需遵医嘱。", "治疗{X}一般采用{Tr}，药物可选用{D}等。",
		"{X}的治疗以{Tr}为主，常用药包括{D}，请在医生指导下使用，不要自行调整剂量。", "针对{X}，医生常开{D}，同时配合{Tr}。"},
	qTest:    {"确诊{X}需要做{T}等检查。", "怀疑{X}时，建议到{Dept}就诊，完善{T}。", "{X}的诊断主要依靠{T}。", "医生一般会安排{T}来判断是否为{X}。"},
	qDiet:    {"{X}患者饮食上宜多吃{E}，少吃或不吃{N}。", "得了{X}建议多吃{E}等食物，避免{N}。", "{X}要注意忌口，{N}尽量不吃，可以适当吃些{E}。"},
	qComplic: {"{X}如果控制不好，可能引起{Co}等并发症。", "{X}的常见并发症有{Co}。", "{X}长期不治疗，容易并发{Co}。"},
	qDept:    {"{X}应该看{Dept}。", "{X}属于{Cat}疾病，建议挂{Dept}的号。", "出现{X}的情况，一般到{Dept}就诊。"},
	qPrevent: {"预防{X}要做到{P}。", "{X}的预防措施包括{P}。", "平时注意{P}，可以降低患{X}的风险。"},
	qWhat:    {"{X}是{Desc}，多见于{People}。", "{X}是指{Desc}。", "所谓{X}，就是{Desc}，好发于{People}。"},
	qCase:    {"根据您描述的{S}等情况，考虑{X}的可能性大，建议到{Dept}就诊，做{T}明确诊断。", "{S}是{X}的典型表现，建议尽快到{Dept}检查{T}。"},
}

func (g *renderer) core(d *Disease, qt int) string {
	return g.fillFacts(pick(g.r, coreTemplates[qt]), d)
}

// Short questions per family: training templates and separate held-out
// (eval) templates, so eval questions do not share long n-grams with
// training questions by construction.
var titleTemplates = [numQTypes][]string{
	qSymptom: {"{X}有哪些症状？", "{X}的表现是什么？", "怎么判断是不是{X}？", "{X}早期有什么感觉？"},
	qCause:   {"{X}是什么原因引起的？", "为什么会得{X}？", "{X}的病因有哪些？"},
	qDrug:    {"{X}吃什么药好？", "{X}怎么治疗？", "{X}能治好吗，用什么药？"},
	qTest:    {"{X}要做什么检查？", "怎么确诊{X}？", "查{X}去医院做哪些项目？"},
	qDiet:    {"{X}饮食要注意什么？", "{X}能吃什么不能吃什么？", "{X}病人忌口吗？"},
	qComplic: {"{X}有什么危害？", "{X}会引起什么并发症？", "{X}严重吗？"},
	qDept:    {"{X}挂什么科？", "{X}看哪个科室？", "{X}去医院找哪个科？"},
	qPrevent: {"{X}怎么预防？", "如何避免得{X}？", "{X}能预防吗？"},
	qWhat:    {"{X}是什么病？", "什么是{X}？", "{X}是怎么回事？"},
	qCase:    {"{S}是怎么回事？", "最近{S}，是什么病？", "出现{S}要紧吗？"},
}

var evalTitleTemplates = [numQTypes][]string{
	qSymptom: {"请教医生，{X}通常带来哪些不适", "得了{X}身体会发出什么信号"},
	qCause:   {"请教医生，{X}到底因何而起", "哪些因素会诱发{X}"},
	qDrug:    {"请教医生，针对{X}该如何用药", "{X}确诊后一般开哪些药物"},
	qTest:    {"请教医生，排查{X}靠哪些检查", "想确认自己有没有{X}需查什么"},
	qDiet:    {"请教医生，{X}患者日常吃东西有啥讲究", "{X}病人平时的饮食如何安排"},
	qComplic: {"请教医生，{X}放任不管会怎样", "{X}拖着不治会有什么后果"},
	qDept:    {"请教医生，{X}就诊应选择哪个门诊", "{X}挂号时应选哪一科"},
	qPrevent: {"请教医生，日常怎样远离{X}", "有什么办法降低{X}发病风险"},
	qWhat:    {"请教医生，{X}这个病该怎么理解", "{X}究竟属于什么样的疾病"},
	qCase:    {"请教医生，身体出现{S}该考虑什么病", "{S}同时出现可能是哪种疾病"},
}

type patient struct {
	who, sex, dur string
	age           int
}

func (g *renderer) patient(d *Disease) patient {
	r := g.r
	p := patient{who: "我", sex: pick(r, []string{"男", "女"}), dur: pick(r, []string{"三天", "一周", "两周", "半个月", "一个多月", "三个月", "半年", "一年多"})}
	if d.Category == "儿科" {
		p.who, p.age = "我家孩子", 1+r.IntN(6)
	} else {
		p.age = 18 + r.IntN(60)
	}
	switch {
	case strings.Contains(d.Name, "前列腺"):
		p.sex, p.age = "男", 50+r.IntN(35)
	case strings.Contains(d.Name, "妊娠"):
		p.sex, p.age = "女", 22+r.IntN(20)
	case d.Category == "妇产科" || strings.Contains(d.Name, "乳腺"):
		p.sex, p.age = "女", 18+r.IntN(40)
	case d.Category != "儿科" && (strings.Contains(d.People, "老年") || strings.Contains(d.People, "50岁以上")):
		p.age = 50 + r.IntN(35)
	}
	return p
}

var askTemplates = []string{
	"{Who}今年{Age}岁，{Sex}，最近{Dur}总是{S1}，{Extra}想问问该怎么办。",
	"{Who}{Age}岁，这{Dur}出现{S1}，{Extra}心里很担心。",
	"{Sex}，{Age}岁。{Dur}前开始{S1}，{Extra}请医生指点。",
	"医生您好，{Who}{Dur}以来一直{S1}，{Extra}不知道严不严重。",
	"{Who}已经{Age}岁了，{Dur}来反复{S1}，{Extra}麻烦帮忙看看。",
}

var askExtras = []string{"", "去社区医院看过，", "吃了点药没见好，", "家里人也有类似情况，", "平时工作比较忙，", "晚上休息不好，", "之前体检没发现问题，"}

func (g *renderer) ask(d *Disease, p patient) string {
	if g.scaled {
		p.dur = g.duration()
		return g.scaledAsk(d, &p)
	}
	return fill(pick(g.r, askTemplates), "{Who}", p.who, "{Age}", fmt.Sprint(p.age), "{Sex}", p.sex, "{Dur}", p.dur,
		"{S1}", list(some(g.r, d.Symptoms, 1, 2)), "{Extra}", pick(g.r, askExtras))
}

var openers = []string{"您好，", "你好，根据你的描述，", "", "这位朋友你好，", "您好，看了您的描述，", "你好，"}
var closings = []string{"祝您早日康复。", "如有不适请及时就医。", "", "希望对您有帮助。", "建议定期复查。", "病情变化时请及时到医院就诊。"}

// answer writes a doctor's answer of family qt about d: the core fact and
// up to two related facts.
func (g *renderer) answer(d *Disease, qt int) string {
	if g.scaled {
		p := g.scaledPatient(d)
		return g.scaledAnswer(d, qt, &p)
	}
	r := g.r
	var b strings.Builder
	b.WriteString(pick(r, openers))
	b.WriteString(g.core(d, qt))
	for _, extra := range r.Perm(numQTypes - 1)[:r.IntN(3)] {
		if extra >= qt {
			extra++
		}
		if extra == qCase || extra == qWhat {
			continue
		}
		b.WriteString(g.core(d, extra))
	}
	b.WriteString(pick(r, closings))
	return b.String()
}

// qa renders one consultation of family qt: title, patient's ask, answer.
func (g *renderer) qa(di, qt int, eval bool) item {
	if g.scaled && !eval {
		return g.scaledQA(di, qt)
	}
	d := &g.ds[di]
	titles := titleTemplates[qt]
	if eval {
		titles = evalTitleTemplates[qt]
	}
	it := item{kind: schemas.KindQA, disease: di, qtype: qt, dept: d.Dept}
	it.title = fill(pick(g.r, titles), "{X}", d.Name, "{S}", list(some(g.r, d.Symptoms, 2, 3)))
	if eval {
		it.title += "？"
	}
	if !eval && g.r.chance(0.7) {
		it.ask = g.ask(d, g.patient(d))
	}
	it.answer = g.answer(d, qt)
	return it
}

// templatedQA renders a short QA of family qt with fixed template choices
// (title, opener, core, closing), so two diseases give parallel records.
func (g *renderer) templatedQA(di, qt int, choice [4]int) item {
	d := &g.ds[di]
	it := item{kind: schemas.KindQA, disease: di, qtype: qt, dept: d.Dept}
	it.title = fill(titleTemplates[qt][choice[0]], "{X}", d.Name)
	it.answer = openers[choice[1]] + g.fillFacts(coreTemplates[qt][choice[2]], d) + closings[choice[3]]
	return it
}

// text renders an encyclopedia paragraph about d.
func (g *renderer) text(di int, titled bool) item {
	if g.scaled {
		return g.scaledText(di, titled)
	}
	d := &g.ds[di]
	r := g.r
	var b strings.Builder
	b.WriteString(g.core(d, qWhat))
	for _, qt := range r.Perm(qCase)[:3+r.IntN(4)] {
		if qt == qWhat {
			continue
		}
		b.WriteString(g.core(d, qt))
	}
	it := item{kind: schemas.KindText, disease: di, text: b.String()}
	if titled {
		it.title = d.Name
	}
	return it
}

// dialogue renders a multi-turn doctor–patient consultation about d.
func (g *renderer) dialogue(di int) item {
	if g.scaled {
		return g.scaledDialogue(di)
	}
	d := &g.ds[di]
	r := g.r
	p := g.patient(d)
	syms := some(r, d.Symptoms, 3, 4)
	first, more := syms[:len(syms)-1], syms[len(syms)-1]
	var turns []schemas.Turn
	say := func(role, s string) { turns = append(turns, schemas.Turn{Role: role, Content: s}) }
	say(schemas.RoleUser, fill(pick(r, []string{
		"医生您好，{Who}{Age}岁，最近{Dur}总是{S}，这是怎么回事？",
		"大夫，{Who}这{Dur}{S}，需要去医院吗？",
		"你好，{Who}{Sex}，{Age}岁，{Dur}来反复{S}，很担心。",
	}), "{Who}", p.who, "{Age}", fmt.Sprint(p.age), "{Dur}", p.dur, "{Sex}", p.sex, "{S}", list(first)))
	say(schemas.RoleAssistant, fill(pick(r, []string{
		"您好，这种情况需要进一步了解。请问有没有{M}？", "了解了。除了这些，还有{M}的情况吗？", "先别着急。平时会不会{M}？",
	}), "{M}", more))
	say(schemas.RoleUser, pick(r, []string{"有的，偶尔会" + more + "。", "好像有一点" + more + "。", "有，最近更明显了。"}))
	say(schemas.RoleAssistant, g.fillFacts(pick(r, []string{
		"结合您说的情况，考虑{X}的可能性比较大。建议您到{Dept}就诊，做一下{T}明确诊断。",
		"这些表现比较符合{X}。需要去{Dept}做{T}，确诊后再制定治疗方案。",
		"从症状看像是{X}，{C}都可能诱发。建议尽快到{Dept}检查{T}。",
	}), d))
	say(schemas.RoleUser, pick(r, []string{"需要吃什么药吗？", "那平时要注意些什么？", "这个病能治好吗？"}))
	say(schemas.RoleAssistant, g.core(d, qDrug)+g.core(d, qDiet))
	if r.chance(0.5) {
		say(schemas.RoleUser, pick(r, []string{"好的，谢谢医生。", "明白了，会不会有什么后果？", "要多久复查一次？"}))
		say(schemas.RoleAssistant, g.core(d, qComplic)+pick(r, closings))
	}
	it := item{kind: schemas.KindDialogue, disease: di, turns: turns, dept: d.Dept}
	it.desc = [][2]string{
		{"疾病", d.Name + "相关"},
		{"病情描述", turns[0].Content},
		{"希望获得的帮助", pick(r, []string{"想知道是什么病，怎么治疗", "需要做什么检查", "用药建议"})},
		{"患病多久", pick(r, []string{"一周内", "一个月内", "半年内", "一年以上"})},
	}
	return it
}

var genericRejected = []string{
	"这个问题不大，多喝热水，注意休息就好了。",
	"每个人情况不一样，不好说，你自己观察看看吧。",
	"建议你上网查一查，网上说得很详细。",
	"没什么关系，过几天自己就好了，不用去医院。",
}

var unsafeRejected = []string{
	"可以自己去药店买点{D}吃，剂量加倍效果更快，不用看医生。",
	"直接吃{D}就行，症状没了就可以停药，不需要复查。",
}

// preference renders a question with a fact-true answer (chosen) and a
// worse one (rejected): another disease's facts, a generic brush-off, or
// unsafe advice.
func (g *renderer) preference(di, qt int) item {
	d := &g.ds[di]
	r := g.r
	q := g.qa(di, qt, false)
	it := item{kind: schemas.KindPreference, disease: di, qtype: qt, prompt: q.question(), chosen: q.answer}
	if g.scaled {
		it.rejected = g.scaledRejectedAnswer(d, di, qt)
	} else {
		switch r.IntN(3) {
		case 0: // wrong facts: another disease's, under this one's name
			other := g.ds[(di+1+r.IntN(len(g.ds)-1))%len(g.ds)]
			other.Name = d.Name
			it.rejected = g.core(&other, qt)
		case 1:
			it.rejected = pick(r, genericRejected)
		default:
			it.rejected = fill(pick(r, unsafeRejected), "{D}", pick(r, d.Drugs))
		}
	}
	if r.chance(0.2) {
		it.system = "你是一名专业、严谨的医生，请用通俗的语言回答患者的问题。"
	}
	return it
}

// Exam families.
const (
	eSymptom = iota
	eDrug
	eTest
	eDept
	eComplic
	eMultiSymptom
	eCase
	numETypes
)

var examStems = [numETypes][]string{
	eSymptom:      {"下列哪项是{X}的典型表现", "{X}患者最常出现的症状是"},
	eDrug:         {"治疗{X}的常用药物是", "下列药物中可用于{X}的是"},
	eTest:         {"诊断{X}常用的检查是", "下列哪项检查有助于确诊{X}"},
	eDept:         {"{X}患者应首选就诊的科室是", "{X}属于下列哪个科室的诊治范围"},
	eComplic:      {"{X}的常见并发症是", "{X}控制不佳时可并发"},
	eMultiSymptom: {"{X}的常见症状包括（多选）", "下列属于{X}临床表现的有（多选）"},
	eCase:         {"患者{Sex}，{Age}岁，{Dur}来出现{S}，最可能的诊断是", "{Sex}性患者，{Age}岁，因{S}{Dur}就诊，首先考虑的疾病是"},
}

var evalExamStems = [numETypes][]string{
	eSymptom:      {"关于{X}，以下哪一项属于其常见临床表现"},
	eDrug:         {"以下哪种药物适用于{X}的治疗"},
	eTest:         {"为明确{X}的诊断，以下哪项检查最有意义"},
	eDept:         {"以下哪个科室负责{X}的诊疗"},
	eComplic:      {"以下哪一项是{X}可能引起的并发症"},
	eMultiSymptom: {"以下选项中，属于{X}常见临床表现的是（多选）"},
	eCase:         {"某{Sex}性，{Age}岁，主诉{S}已有{Dur}，按临床表现判断最可能患的是"},
}

// field returns the list an exam family asks about.
func examField(d *Disease, et int) []string {
	switch et {
	case eDrug:
		return d.Drugs
	case eTest:
		return d.Tests
	case eDept:
		return []string{d.Dept}
	case eComplic:
		return d.Complic
	default:
		return d.Symptoms
	}
}

// exam renders a multiple-choice question of family et about d with n
// options (5 for CMExam, 4 for CMMLU). It returns false when the fact
// base cannot supply enough distinct distractors.
func (g *renderer) exam(di, et, n int, eval, explain bool) (item, bool) {
	d := &g.ds[di]
	r := g.r
	stems := examStems[et]
	if eval {
		stems = evalExamStems[et]
	}
	p := g.patient(d)
	var correct []string
	var pool []string
	distractorOf := map[string]string{}
	if et == eCase {
		correct = []string{d.Name}
		for _, o := range r.Perm(len(g.ds)) {
			if o != di && !related(d, &g.ds[o]) {
				pool = append(pool, g.ds[o].Name)
			}
		}
	} else {
		own := map[string]bool{}
		for _, x := range examField(d, et) {
			own[x] = true
		}
		k := 1
		if et == eMultiSymptom {
			k = 2 + r.IntN(2)
		}
		correct = some(r, examField(d, et), k, k)
		// one distractor from each of several unrelated diseases
		for _, o := range r.Perm(len(g.ds)) {
			if o == di || related(d, &g.ds[o]) {
				continue
			}
			var cands []string
			for _, x := range examField(&g.ds[o], et) {
				if !own[x] && distractorOf[x] == "" && !overlaps(x, own) {
					cands = append(cands, x)
				}
			}
			if len(cands) > 0 {
				x := pick(r, cands)
				distractorOf[x] = g.ds[o].Name
				pool = append(pool, x)
			}
		}
	}
	if len(correct) == 0 || len(pool) < n-len(correct) {
		return item{}, false
	}
	texts := append(append([]string{}, correct...), pool[:n-len(correct)]...)
	if g.scaled && !eval && !explain && (et == eSymptom || et == eMultiSymptom) {
		for i := range texts { // options in a scaled exam say how the symptom shows
			if r.IntN(2) == 0 {
				texts[i] = pick(r, symptomMods) + texts[i]
			}
		}
	}
	order := r.Perm(n)
	q := schemas.ExamQuestion{}
	var answer []byte
	isCorrect := map[int]bool{}
	for i, o := range order {
		label := string(rune('A' + i))
		q.Options = append(q.Options, schemas.Option{Label: label, Text: texts[o]})
		if o < len(correct) {
			isCorrect[i] = true
			answer = append(answer, label[0])
		}
	}
	q.Answer = string(answer)
	q.Question = fill(pick(r, stems), "{X}", d.Name, "{Sex}", p.sex, "{Age}", fmt.Sprint(p.age), "{Dur}", p.dur,
		"{S}", list(some(r, d.Symptoms, 3, 3)))
	if g.scaled && !eval {
		g.newRecord()
		p.dur = g.duration()
		q.Question = g.scaledExamStem(d, &p, q.Question, et)
	}
	if explain {
		q.Explanation = examExplanation(d, et, &q, isCorrect, distractorOf)
	}
	return item{kind: schemas.KindExam, disease: di, qtype: et, exam: q}, true
}

// examExplanation says why the exam question's answer is right and each
// distractor wrong, as exam training rows carry it.
func examExplanation(d *Disease, et int, q *schemas.ExamQuestion, isCorrect map[int]bool, distractorOf map[string]string) string {
	var b strings.Builder
	switch et {
	case eCase:
		fmt.Fprintf(&b, "%s的典型表现为%s（%s对）。", d.Name, list(d.Symptoms[:min(4, len(d.Symptoms))]), q.Answer)
	case eDept:
		fmt.Fprintf(&b, "%s属于%s疾病，由%s诊治（%s对）。", d.Name, d.Category, d.Dept, q.Answer)
	default:
		fmt.Fprintf(&b, "%s%s%s（%s对）。", d.Name, map[int]string{eSymptom: "的常见症状有", eMultiSymptom: "的常见症状有", eDrug: "的常用药物有",
			eTest: "的常用检查有", eComplic: "的常见并发症有"}[et], list(examField(d, et)), q.Answer)
	}
	why := map[int]string{eSymptom: "%s多见于%s（%s错）。", eMultiSymptom: "%s多见于%s（%s错）。", eDrug: "%s用于治疗%s（%s错）。",
		eTest: "%s常用于%s的诊断（%s错）。", eComplic: "%s是%s的并发症（%s错）。", eDept: "%s不是%s的主要诊治科室（%s错）。"}[et]
	for i, o := range q.Options {
		switch {
		case isCorrect[i] || b.Len() > 400:
		case et == eDept:
			fmt.Fprintf(&b, why, o.Text, d.Name, o.Label)
		case distractorOf[o.Text] != "":
			fmt.Fprintf(&b, why, o.Text, distractorOf[o.Text], o.Label)
		}
	}
	return b.String()
}

// related reports whether two diseases are too alike to serve as each
// other's distractors: the same department, or names sharing three
// characters (2型糖尿病 and 妊娠期糖尿病).
func related(a, b *Disease) bool {
	if a.Dept == b.Dept {
		return true
	}
	ra := []rune(a.Name)
	for i := 0; i+3 <= len(ra); i++ {
		if strings.Contains(b.Name, string(ra[i:i+3])) {
			return true
		}
	}
	return false
}

// overlaps reports whether x contains or is contained in one of own, so a
// distractor such as "头晕" is not offered against a correct "头晕目眩".
func overlaps(x string, own map[string]bool) bool {
	for o := range own {
		if strings.Contains(o, x) || strings.Contains(x, o) {
			return true
		}
	}
	return false
}
