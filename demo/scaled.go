package demo

import (
	"strconv"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// The renderers of --scale (see prose.go): the same records as the default
// demo's, each written from the larger space.

// slots fills the fact and prose slots of a template about d for patient p.
func (g *renderer) slots(d *Disease, p *patient) func(key string) string {
	r := g.r
	return func(key string) string {
		switch key {
		case "X":
			return d.Name
		case "Desc":
			return d.Desc
		case "People":
			return d.People
		case "Dept":
			return d.Dept
		case "Cat":
			return d.Category
		case "S":
			return g.facts(d.Symptoms, 2, 4, symptomMods)
		case "S1":
			return pick(r, d.Symptoms)
		case "C":
			return g.facts(d.Causes, 1, 3, causeMods)
		case "C1":
			return pick(r, d.Causes)
		case "D":
			return g.facts(d.Drugs, 1, 3, nil)
		case "D1":
			return pick(r, d.Drugs)
		case "Dose":
			return g.dose(pick(r, d.Drugs))
		case "T":
			return g.facts(d.Tests, 1, 3, nil)
		case "T1":
			return pick(r, d.Tests)
		case "Tr":
			return g.facts(d.Treat, 1, 3, nil)
		case "Co":
			return g.facts(d.Complic, 1, 3, nil)
		case "E":
			return g.facts(d.DoEat, 1, 3, nil)
		case "Ne":
			return g.facts(d.NotEat, 1, 3, nil)
		case "P":
			return g.facts(d.Prevent, 1, 3, nil)
		case "Other":
			return g.ds[r.IntN(len(g.ds))].Name
		case "Reading":
			return g.reading()
		case "Dur", "Dur2":
			if key == "Dur" && p != nil {
				return p.dur
			}
			return g.duration()
		case "Age":
			if p != nil {
				return strconv.Itoa(p.age)
			}
			return strconv.Itoa(18 + r.IntN(60))
		case "Age2":
			return strconv.Itoa(20 + r.IntN(55))
		case "Sex":
			if p != nil {
				return p.sex
			}
			return pick(r, []string{"男", "女"})
		case "Who":
			if p != nil {
				return p.who
			}
			return "我"
		case "Weeks":
			return g.count(2 + r.IntN(11))
		case "Min":
			return strconv.Itoa(15 + 5*r.IntN(10))
		case "Hours":
			return g.count(6 + r.IntN(4))
		case "Pct":
			return strconv.Itoa(2 + r.IntN(60))
		case "Num":
			return strconv.Itoa(30 + r.IntN(9000))
		case "Ratio":
			return strconv.Itoa(1+r.IntN(3)) + ":" + strconv.Itoa(1+r.IntN(3)) + "." + strconv.Itoa(r.IntN(10))
		case "Kg":
			return strconv.Itoa(40 + r.IntN(70))
		}
		return g.vocab(key)
	}
}

// scaledPatient is patient with the relation, age and duration drawn from
// the larger space.
func (g *renderer) scaledPatient(d *Disease) patient {
	p := g.patient(d)
	r := g.r
	p.dur = g.duration()
	switch {
	case p.age <= 6 || d.Category == "儿科":
		p.who = pick(r, []string{"我家孩子", "我家宝宝", "我儿子", "我女儿", "孩子", "我家小孩", "我外孙", "我孙女"})
	case p.age >= 60 && r.chance(0.6):
		p.who = pick(r, map[string][]string{"男": {"我爸", "我父亲", "我爷爷", "家里老爷子", "我公公", "我岳父"},
			"女": {"我妈", "我母亲", "我奶奶", "家里老太太", "我婆婆", "我岳母"}}[p.sex])
	case r.chance(0.25):
		p.who = pick(r, map[string][]string{"男": {"我老公", "我哥", "我弟弟", "我男朋友", "我同事"},
			"女": {"我老婆", "我姐", "我妹妹", "我女朋友", "我同事"}}[p.sex])
	default:
		p.who = pick(r, []string{"我", "本人", "我自己"})
	}
	return p
}

// Every sentence the scaled renderers end holds at least one clause from
// a large space (an age, a duration, a reading, a place, a symptom detail),
// so no short stock sentence ("你好。") repeats through a big corpus.

var scaledTitleLeads = []string{"{Who}{Age}岁，", "{Age}岁{Sex}，[{Dur}了，|{Job}，]", "{Reading}，", "[本人|我是]{Job}，{Habit}，",
	"{Trigger}{Detail}，", "{Who}{Dur}{Freq}{Detail}，", "{Who}{Age}岁，{Reading}，", "[在|从]{City}{Hosp}[查出|看过]，"}

var scaledTitles = [numQTypes][]string{
	qSymptom: {"[{X}|得了{X}][一般|通常|都|]有[哪些|什么][症状|表现|感觉][呀|啊|]？", "{S1}{Freq}[，|]是{X}的[症状|表现]吗？",
		"[怎么|如何]知道自己[是不是|有没有]{X}[，{S1}算不算|，最近{S1}|]？", "{X}[早期|刚开始|初期][会|]有什么[信号|症状|不舒服][，{S1}算吗|]？"},
	qCause: {"[为什么|为啥|怎么]会[得|患上]{X}[，{Habit}有关系吗|，和{C1}有关吗|]？", "{X}[是|到底是][什么|啥]原因[引起|造成|导致]的？",
		"[查出|得了]{X}，[病因|原因]是什么？"},
	qDrug: {"{X}[吃|用][什么|哪种][药|药物][好|比较好|效果好][，{Tried}{Effect}|]？", "[确诊|查出]{X}{Dur2}了，[该|应该][怎么|如何]治疗？",
		"{X}[能|可以]治好吗[，{D1}要一直吃吗|，吃{D1}行不行|]？", "{X}[要|需要]吃药吗？"},
	qTest: {"{X}[要|需要|得]做[什么|哪些]检查[，{T1}有必要吗|，贵不贵|]？", "[怎么|如何]确诊{X}[，{Tried}|]？",
		"[怀疑|担心][是|得了]{X}，[去医院|到医院][要|该]查什么？"},
	qDiet: {"{X}[饮食|吃东西|平时吃饭][要|该][注意|忌口]什么[，{Bad}能吃吗|，能喝酒吗|]？", "{X}[能|可以]吃{Food}吗[，{Bad}呢|]？",
		"{X}[病人|患者][要|需要]忌口吗？"},
	qComplic: {"{X}[有什么|会有哪些][危害|后果|并发症][，拖了{Dur2}了|]？", "{X}[会不会|会]引起{Co}吗？",
		"{X}[严重吗|要紧吗|会不会越来越重]？"},
	qDept:    {"{X}[挂|看][什么|哪个]科[，在{City}哪家医院好|]？", "{S1}[挂|看]哪个科[室|]？", "看{X}[应该|要]挂哪个科？"},
	qPrevent: {"{X}[怎么|如何]预防[，{Kin}得过|，家里有人得过|]？", "[怎样|如何]避免[得|患]{X}？", "{X}[能|可以]预防吗？"},
	qWhat: {"{X}[是什么|是啥|是怎么回事|是什么病][，{Tried}说是这个|，体检查出来的|]？", "[什么|啥]是{X}[，严重吗|，会传染吗|]？",
		"[医生说|报告上写着]是{X}，[这是|是]什么[意思|病]？"},
	qCase: {"{S}[是怎么回事|是什么病|要紧吗]？", "[最近|这段时间|{Trigger}]{S1}[，还|，又|，]{Freq}{S1}，是什么[原因|病]？",
		"[出现|老是]{S}[，{Tried}|]，[该怎么办|怎么回事]？"},
}

var scaledAsks = []string{
	"{Who}{Date}[在|去]{Place}{Activity}，[回来以后|第二天][就|开始]{S1}，[现在|到现在]{Dur}了",
	"{Date}{Who}[在|去]{City}{Hosp}[查了|测了]{Reading}，{Reading}，[医生|大夫]说[可能|怀疑]是{X}",
	"{Who}今年{Age}岁，{Sex}，{JobAt}，{Dur}前{Trigger}开始{S1}[，{When}{Freq}{Detail}|]",
	"{Who}{Age}岁，这{Dur}{When}{Freq}{S1}，[后来|最近|这几天]还[有点|出现了|开始]{Detail}",
	"[{Sex}，{Age}岁，|{Age}岁{Sex}，]{Dur}[前|以前][开始|出现]{S1}，[{Tried}，{Effect}|平时{HabitFor}]",
	"{Who}{Dur}以来一直{S1}，{Tried}，{Effect}[，{Worry}|]",
	"[{Reading}，|体检时{Reading}，]{When}[会|总是|经常]{Detail}，[{Kin}有{Other}|平时{HabitFor}]，{Worry}",
	"{Who}{JobAt}，平时{HabitFor}，{Trigger}{S1}[，持续了{Dur2}|，{Freq}发作]",
}

var scaledAskTails = []string{"{Worry}", "[麻烦|请]医生[帮忙|给]看看", "[请医生指点|求解答]", "想知道[需要|用不用]去医院", "[这种情况|这个]要紧吗",
	"[以前|之前]{Tried}[，{Effect}|]", "{Reading}[，不知道正不正常|，算高吗|]", "还{Freq}{Detail}", "{Kin}[以前|也]有{Other}",
	"{Date}[和|跟|陪]{Kin}{Activity}[以后|回来]就[这样了|更明显了|开始不舒服]", "[住在|家在]{Place}，[离|到]{City}{Hosp}[挺远|不算远|要坐{N}站公交]",
	"[最近|这{Dur2}]{Mood}", "[晚上|睡觉时]用{Thing}[会不会有影响|有没有关系]", "之前在{Street}[附近|旁边]的[诊所|药店]{Tried}"}

// scaledAsk is the patient's description: a few sentences, each a big
// clause with small ones joined to it by commas.
func (g *renderer) scaledAsk(d *Disease, p *patient) string {
	s := g.slots(d, p)
	var b strings.Builder
	for i := range 1 + g.r.IntN(2) {
		if i > 0 {
			b.WriteString(pick(g.r, []string{"", "另外，", "还有就是", "对了，"}))
		}
		g.expandTo(&b, pick(g.r, scaledAsks), s)
		for range g.r.IntN(3) {
			b.WriteString("，")
			g.expandTo(&b, pick(g.r, scaledAskTails), s)
		}
		b.WriteString(pick(g.r, []string{"。", "。", "。", "？", "！", "……"}))
	}
	return b.String()
}

// scaledCores state one family of facts, as coreTemplates do, in many more
// wordings; scaledLeads and scaledTails wrap them in a clause of context.
var scaledCores = [numQTypes][]string{
	qSymptom: {"{X}[的|][常见|典型|主要][症状|表现|临床表现][有|包括|是]{S}", "{X}[患者|病人][常|多|往往][表现为|会出现|有]{S}[等|等症状|]",
		"{X}[主要|多]表现为{S}，[症状|病情]轻重[因人而异|差别较大|和病程有关]", "[典型的|较重的|早期的]{X}[会|可以]出现{S}"},
	qCause: {"{X}[的发生|的发病|]与{C}[等因素|等|][有关|关系密切|相关]", "[引起|导致|诱发]{X}的[原因|因素][主要有|包括|常见的有]{C}",
		"{X}[多见于|好发于|常见于]{People}，[常见|主要]诱因[包括|有]{C}", "{C}[都|均][可能|可以|容易][导致|诱发|引起]{X}"},
	qDrug: {"{X}[常用的|常用|一般用的]药[物|][有|包括]{D}，[具体|用法用量|怎么用][需|要|请][遵医嘱|听医生的|由医生决定]", "[治疗|针对]{X}[一般|通常|多]采用{Tr}，药物[可|可以][选用|用]{D}[等|]",
		"{X}的治疗以{Tr}为主，[常用药|药物][包括|有]{D}，[请|要]在医生指导下[使用|服用]，[不要|别|切忌]自行[调整剂量|停药|加量]", "[针对|对于]{X}，医生[常|一般|多半]开{D}，[同时|并][配合|结合]{Tr}",
		"[如果|若]{X}[诊断明确|已经确诊]，[可以|可]{Dose}"},
	qTest: {"[确诊|诊断]{X}[需要|要|一般要]做{T}[等|][检查|项目|]", "[怀疑|考虑]{X}[时|的话]，[建议|最好|可以]到{Dept}[就诊|看看|挂号]，[完善|做一下|查一下]{T}",
		"{X}的诊断[主要|一般][依靠|靠|依据]{T}", "医生[一般|通常|多半]会[安排|开]{T}[来判断|来明确|看看][是不是|是否为|有没有]{X}"},
	qDiet: {"{X}[患者|病人][饮食上|平时|日常][宜|可以|应][多吃|适当吃些]{E}，[少吃或不吃|避免|尽量不碰]{Ne}", "得了{X}[建议|最好][多吃|常吃]{E}[等食物|这类东西|]，[避免|少吃|别吃]{Ne}",
		"{X}要[注意|讲究]忌口，{Ne}[尽量不吃|最好别吃|要少吃]，[可以|不妨][适当|多]吃[些|点]{E}"},
	qComplic: {"{X}[如果|要是|若][控制不好|不及时治疗|拖着不管]，[可能|容易|有可能][引起|导致|出现]{Co}[等并发症|等问题|]", "{X}的[常见|主要]并发症[有|包括]{Co}",
		"{X}长期[不治疗|不规范治疗|控制不佳]，[容易|可能][并发|合并|引起]{Co}"},
	qDept:    {"{X}[应该|一般|建议][看|挂]{Dept}", "{X}[属于|是]{Cat}[疾病|的病]，[建议|可以|一般][挂|看]{Dept}[的号|]", "[出现|怀疑]{X}[的情况|时]，[一般|建议][到|去]{Dept}就诊"},
	qPrevent: {"预防{X}[要|需要|关键是][做到|注意]{P}", "{X}的预防[措施|方法][包括|有|主要是]{P}", "平时[注意|做到|坚持]{P}，[可以|能][降低|减少]患{X}的[风险|机会]"},
	qWhat:    {"{X}是{Desc}，[多见于|常见于|好发于]{People}", "{X}是指{Desc}", "所谓{X}，[就是|指的是|是]{Desc}[，好发于{People}|]"},
	qCase: {"[根据|结合]您[描述|说]的{S}[等情况|这些表现|]，[考虑|怀疑]{X}的可能性[大|比较大]，[建议|最好][到|去]{Dept}[就诊|看看]，[做|查][一下|]{T}[明确诊断|确诊|]",
		"{S}是{X}的[典型表现|常见表现]，[建议|最好][尽快|及早|抽空][到|去]{Dept}[检查|查一下]{T}"},
}

var scaledLeads = []string{"[{Conn}|]{Age2}岁[左右|上下|以上]的[患者|病人]中，", "[{Conn}|]对于{Job}这[类|种]{Habit}的人来说，", "[{Conn}|]{Name}[医生|主任|教授]{Date}[接诊|看]的[一位|那位]{Age2}岁[病人|患者]也是这样，",
	"[{Conn}|]病程[在|不到|超过]{Dur2}[时|的话|的情况下]，", "[结合|根据]您{Reading}[这个情况|来看|的结果]，", "[您提到|您说]{When}{Freq}{Detail}，",
	"[考虑到|鉴于]您{Age}岁、平时{HabitFor}，", "[{Conn}|]{Trigger}{Freq}{S1}的人[里|中]，", "[{Conn}|]在{City}{Hosp}[的|]门诊[里|上]，",
	"像您这样{Dur}{Detail}的，", "[{Conn}|]从{T1}[看|的结果看]，"}

var scaledTails = []string{"", "", "，[其中|尤其]以{S1}[最为|比较|更][突出|明显|常见]", "，[部分|少数|不少]患者还[可|会]伴有{Detail}",
	"，[症状|不适]多在{When}加重", "，[这一点|这些][要|需要]和{Other}[相鉴别|区分开]", "，大约{Pct}%的患者[在|于]{Dur2}[内|后][好转|缓解|需要复诊]",
	"，[{Tone}|不要自己乱用药|按时复查很重要]", "，[每周|坚持每周]{Sport}{N}次、每次{Min}分钟[左右|以上|]也有帮助"}

// diseaseRefs are what a sentence may call the disease after it has been named.
var diseaseRefs = []string{"本病", "该病", "这种病", "这个病", "此病", "这类疾病"}

func (g *renderer) scaledCore(d *Disease, qt int, p *patient) string {
	slot := g.slots(d, p)
	s := func(key string) string {
		if key == "X" && qt != qWhat && g.r.IntN(2) == 0 {
			return pick(g.r, diseaseRefs)
		}
		return slot(key)
	}
	var b strings.Builder
	g.expandTo(&b, pick(g.r, scaledLeads), s)
	g.expandTo(&b, pick(g.r, scaledCores[qt]), s)
	g.expandTo(&b, pick(g.r, scaledTails), s)
	b.WriteString(pick(g.r, []string{"。", "。", "。", "！", "；"}))
	return b.String()
}

// Openers end in a comma: they start the answer's first sentence.
var scaledOpeners = []string{"", "[我是|这里是]{Dept}[的|]{Surname}医生，", "[您好|你好]，我是{City}{Hosp}{Surname}{Given}[医生|大夫]，", "[您好|你好|这位朋友您好|朋友你好|您好呀|你好呀]，", "[您好|你好]，[根据|结合|看了][您|你][的描述|提供的情况|说的症状|补充的资料][来看|分析|]，",
	"[您好|你好]，{Tone}，", "[感谢信任|谢谢提问|收到您的问题]，"}

var scaledAdvice = []string{
	"[建议|可以|不妨]{Dose}[，用药期间注意观察有没有不舒服|，[有|出现][胃不舒服|皮疹|头晕]要及时停药|]。",
	"[平时|日常|生活上][注意|尽量|要]少吃{Bad}[和|、]{Bad}，[多吃|可以常吃]{Food}[和|、]{Food}。",
	"[您{Age}岁，|{Reading}的话，|体重{Kg}公斤的话，][每周|最好每周]{Sport}{N}次，每次{Min}分钟[左右|上下|]，[循序渐进|别一下子太猛|量力而行]。",
	"[您{Age}岁，|像您是{Job}，][晚上|每天]尽量[保证|睡够]{Hours}个小时[睡眠|左右]，[别再|不要再|尽量不要]{Habit}了。",
	"[如果|一旦|要是]出现{Red}[或者|、]{Red}，[要|请|务必][立即|马上|尽快]去[急诊|医院|{City}{Hosp}]。",
	"[建议|最好]{Dur2}后[复查|再查一次|回医院复诊]{T1}[，看看变化|，对比一下|，和这次的{Reading}对比]。",
	"[可以先|建议先]在家[观察|记录]{N}天{Reading}[的变化|情况]，[复诊时带给医生看|有变化及时就诊]。",
	"[如果|要是]住在{Place}[附近|一带]，[可以|建议]挂{City}{Hosp}{Dept}[的号|{Surname}主任的号|的专家门诊]，[带上|别忘了带]{Date}[那次|做]的{T1}[报告|结果]。",
	"[另外|还有]，{Mood}[也会|同样会][影响|加重][病情|恢复]，[可以|不妨][多|常]和{Kin}[聊聊|说说]，[必要时|实在不行]看看心理门诊。",
}

// Closings end the answer's last sentence, after a comma.
var scaledClosings = []string{"", "", "[祝您|祝你|愿您][早日康复|身体健康|一切顺利]。", "[如有|有任何]不[适|明白的地方][请|可以|欢迎]及时[就医|复诊|再来咨询]。",
	"[希望|但愿]对您有[帮助|所帮助]。", "[以上|上述]建议[仅供参考|供您参考]，[具体|详细情况]请[以面诊为准|到医院当面咨询]。"}

// withClosing appends a closing to text's last sentence.
func (g *renderer) withClosing(b *strings.Builder, s func(string) string) string {
	text := b.String()
	c := g.expand(pick(g.r, scaledClosings), s)
	if c == "" {
		return text
	}
	for _, end := range []string{"。", "！", "；"} {
		text = strings.TrimSuffix(text, end)
	}
	return text + "，" + c
}

// scaledAnswer is answer's scaled form: an opener, the core fact, related
// facts and advice in random order, and a closing.
func (g *renderer) scaledAnswer(d *Disease, qt int, p *patient) string {
	r := g.r
	s := g.slots(d, p)
	var b strings.Builder
	g.expandTo(&b, pick(r, scaledOpeners), s)
	b.WriteString(g.scaledCore(d, qt, p))
	for _, extra := range r.Perm(numQTypes - 1)[:r.IntN(4)] {
		if extra >= qt {
			extra++
		}
		if extra == qCase || extra == qWhat {
			continue
		}
		b.WriteString(g.scaledCore(d, extra, p))
	}
	for range r.IntN(3) {
		g.expandTo(&b, pick(r, scaledAdvice), s)
	}
	if r.IntN(4) == 0 {
		g.expandTo(&b, "[（|——|【]{City}{Hosp}{Dept}{Name}[医生|主任|副主任医师|主治医师][）|，{Date}|】]", s)
		return b.String()
	}
	return g.withClosing(&b, s)
}

func (g *renderer) scaledQA(di, qt int) item {
	g.newRecord()
	d := &g.ds[di]
	p := g.scaledPatient(d)
	it := item{kind: schemas.KindQA, disease: di, qtype: qt, dept: d.Dept}
	it.title = g.expand(pick(g.r, scaledTitleLeads)+pick(g.r, scaledTitles[qt]), g.slots(d, &p))
	if g.r.chance(0.7) {
		it.ask = g.scaledAsk(d, &p)
	}
	it.answer = g.scaledAnswer(d, qt, &p)
	return it
}

var scaledCases = []string{
	"[例如|比如|曾有]一位{Age2}岁的{Job}，{Dur2}前{Trigger}出现{S}，[经|做了]{T}[后|]确诊为{X}，[予|给予|用]{D}治疗{Weeks}周后[症状明显好转|基本痊愈|病情稳定]。",
	"[门诊|临床]上[常见|常遇到]这样的{X}患者：{Age2}岁，平时{Habit}，{When}{Freq}{S1}，[拖了|忍了]{Dur2}才就诊。",
	"[有研究|有观察][发现|提示]，{People}中[坚持|做到]{P}的人，[发病|复发][风险|机会][明显|相对]较低。",
}

var scaledTextLeads = []string{
	"[据|根据]{City}{Hosp}{Date}[的|]统计，[在|]{Num}例[就诊|住院|门诊]患者[中|里]，约{Pct}%[有|伴有|出现过]{S1}，{Reading}的占{Pct}%。",
	"一项[纳入|观察了]{Num}名{Age2}至{Age}岁[成人|人群|患者]的[研究|调查][发现|显示|提示]，[症状|病情]多在[发病|起病]后{Dur2}[内|左右][达到高峰|最明显]。",
	"[{Date}|近年来]，{City}[等地|地区][报告|收治]的[病例|患者]中，[男女之比约为|男性约占]{Ratio}。",
	"{Name}[教授|主任|医生][在|于]{Date}[接诊|遇到]过一位住在{Place}的{Age2}岁{Job}，{Detail}{Dur2}[，{Reading}|]。",
	"[{City}|{Place}]{Hosp}{Date}[记录|收治]的{Num}[例|名]患者[中|里]，{Reading}的[约占|大约有]{Pct}%。",
	"[以|按]{Name}[教授|主任|医生]的[经验|说法]，[门诊|病房]里[每|]{Num}[个|名]患者[中|里]约有{Pct}[人|个]需要[进一步检查|住院|长期随访]。",
}

// scaledText is text's scaled form: the definition, several fact families
// and sometimes a case, each sentence in context.
func (g *renderer) scaledText(di int, titled bool) item {
	g.newRecord()
	d := &g.ds[di]
	r := g.r
	var b strings.Builder
	for i, qt := range r.Perm(qCase)[:3+r.IntN(4)] {
		if qt == qWhat && i > 0 {
			continue
		}
		if r.IntN(4) > 0 {
			g.expandTo(&b, pick(r, scaledTextLeads), g.slots(d, nil))
		}
		b.WriteString(g.scaledCore(d, qt, nil))
		if r.chance(0.25) {
			g.expandTo(&b, pick(r, scaledCases), g.slots(d, nil))
		}
	}
	it := item{kind: schemas.KindText, disease: di, text: b.String()}
	if titled {
		it.title = d.Name
	}
	return it
}

// scaledDialogue is dialogue's scaled form.
func (g *renderer) scaledDialogue(di int) item {
	g.newRecord()
	d := &g.ds[di]
	r := g.r
	p := g.scaledPatient(d)
	s := g.slots(d, &p)
	var turns []schemas.Turn
	add := func(role, content string) { turns = append(turns, schemas.Turn{Role: role, Content: content}) }
	say := func(role, tmpl string) { add(role, g.expand(tmpl, s)) }
	add(schemas.RoleUser, g.expand("[医生您好，|大夫，|你好，|]", s)+g.scaledAsk(d, &p))
	say(schemas.RoleAssistant, "[您好|你好|好的]，[{Tone}，|这种情况需要进一步了解，|]"+
		"[请问|那|]{When}[有没有|会不会|还有]{Detail}，[{Reading}这样的[数值|情况]以前有过吗|平时{Habit}吗|[以前|过去]{Dur2}里有过类似情况吗]？")
	say(schemas.RoleUser, "[有的|有|好像有一点|偶尔会|没注意过]，{Freq}{Detail}，[{Reading}|{Tried}，{Effect}]。")
	say(schemas.RoleAssistant, "[结合|根据]您说的{Detail}[和|、]{S1}，[考虑|像是|比较符合]{X}[的可能性比较大|]，"+
		"[建议|最好][到|去]{City}{Hosp}{Dept}[就诊|看一下]，[做|查][一下|]{T}[明确诊断|看看|][，{C}都可能[诱发|加重]这个病|]。")
	say(schemas.RoleUser, "[我|{Who}]{Tried}，{Reading}，[还需要吃什么药吗|平时要注意些什么|这个病能治好吗|要住院吗|会不会传染给家里人]？")
	add(schemas.RoleAssistant, g.scaledCore(d, qDrug, &p)+g.scaledCore(d, qDiet, &p)+g.expand(pick(r, scaledAdvice), s))
	if r.chance(0.5) {
		say(schemas.RoleUser, "[好的，谢谢医生|明白了|知道了]，{Who}{Age}岁了，平时{Habit}，[会不会有什么后果|要多久复查一次|{Bad}还能吃吗]？")
		var b strings.Builder
		b.WriteString(g.scaledCore(d, qComplic, &p))
		add(schemas.RoleAssistant, g.withClosing(&b, s))
	}
	it := item{kind: schemas.KindDialogue, disease: di, turns: turns, dept: d.Dept}
	it.desc = [][2]string{
		{"疾病", d.Name + "相关"},
		{"病情描述", g.scaledAsk(d, &p)},
		{"希望获得的帮助", g.expand("[想知道是什么病|需要做什么检查|用药建议|怎么治疗|饮食上要注意什么][，{Worry}|]", s)},
		{"患病多久", p.dur},
	}
	return it
}

var scaledRejectedLeads = []string{"{Age2}岁[的人|]{S1}[很正常|不奇怪]，", "{Reading}[不算什么|没啥事|问题不大]，", "{Dur2}的{Detail}[不算事|算不了什么]，",
	"[我见过的|我认识的]{Job}[里|中]{Habit}的多了，", "{Who}{Age}岁了，"}

var scaledRejected = []string{
	"[这个问题|这种情况|这点小毛病][不大|没什么|不要紧]，[多喝热水|注意休息|少操心]就[好了|行了|没事了][，{Bad}照吃不误|，过{Dur2}自然就好|]。",
	"[每个人|各人]情况不一样，[不好说|说不准|很难讲]，[你|您]自己[观察看看|再看看|扛一扛]吧[，{Tried}就行|]。",
	"[建议|你可以]上网[查一查|搜一搜]，网上[说得|写得]很详细[，照着做就行|，比医院讲得清楚|]。",
	"[没什么关系|不用管它|别太当回事]，过[几天|{Dur2}]自己就好了，[不用|没必要]去医院。",
	"[可以|直接]自己去药店买[点|些]{D1}吃，[剂量加倍|多吃几片]效果更快，不用看医生。",
	"直接吃{D1}就行，[症状没了|不难受了]就[可以|马上]停药，[不需要|没必要]复查。",
	"{Otc}[就能|也能|可以]治{X}，[吃上|坚持吃]{Dur2}[保准|肯定]好。",
	"[隔壁|楼下|单位]的{Name}[说|讲]{Reading}[不算啥|很常见]，[他|她]{Date}也这样，{Tried}[就|也]好了。",
	"{Name}[大夫|医生]{Date}[在|去]{Place}[义诊|坐诊]时[说过|讲过]，{Reading}[根本|压根]不用[管|治]，[你|您]这个也一样。",
	"[我们|我家]{Street}[那边|附近]的{Name}[也|]这样，[后来|最后]{Tried}就好了，[你|您]也试试。",
	"[听说|据说]{Place}有个[老中医|偏方|土方子]，[专治|能治]{X}，{Date}[去|走]一趟就行。",
}

// scaledRejectedAnswer is a worse answer: a brush-off, unsafe advice, or
// another disease's facts under this one's name.
func (g *renderer) scaledRejectedAnswer(d *Disease, di, qt int) string {
	r := g.r
	if r.IntN(3) == 0 {
		other := g.ds[(di+1+r.IntN(len(g.ds)-1))%len(g.ds)]
		other.Name = d.Name
		return g.scaledCore(&other, qt, nil)
	}
	return g.expand(pick(r, scaledRejectedLeads)+pick(r, scaledRejected), g.slots(d, nil))
}

var scaledVignettes = []string{
	"患者，{Sex}，{Age}岁，{Job}，[因|]{S1}{Dur}[就诊|入院|来诊]，[既往体健|有{Other}病史{Dur2}|平素{Habit}]，[查体|测得]{Reading}，{Reading}，",
	"{Sex}性，{Age}岁，{Date}{Trigger}出现{S1}，[持续|已]{Dur}，[伴|并有]{Detail}，{Reading}，",
	"[某|一名]{Age}岁{Sex}性{Job}，[诊断为|确诊]{X}{Dur}，[{Date}复查|近期复查]{Reading}，{Reading}，",
	"{Age}岁{Sex}性，[住在|来自]{Place}，{Date}[起|开始]{Detail}，[当地|在{City}{Hosp}]测{Reading}，",
}

var scaledVignetteMore = []string{"[家住|来自]{Place}，", "[由|经]{City}{Hosp}{Name}[医生|主任]转诊，", "{Date}[在|于]{Place}{Activity}后[加重|发病]，", "{Date}[起|开始]{Detail}，", "[既往|曾]{Tried}，", "[查体|测得]{Reading}，",
	"[入院时|门诊]{Reading}，", "[其|患者]{Kin}有{Other}病史，", "平素{HabitFor}，", "[近|最近]{Dur2}{Mood}，",
	"{JobAt}，", "[自述|诉]{Detail}，", "{Date}[曾|]在{City}{Hosp}[测得|查]{Reading}，", "[既往|平素|近{Dur2}]{C1}，",
	"[发病前|起病前]{Dur2}{Activity}，", "[由|经]{Kin}陪同[就诊|来院]，"}

// scaledExamStem puts a short case before an exam stem, as many real exam
// questions start; the stem (and so the answer) is unchanged.
func (g *renderer) scaledExamStem(d *Disease, p *patient, stem string, et int) string {
	s := g.slots(d, p)
	var b strings.Builder
	if et != eCase {
		g.expandTo(&b, pick(g.r, scaledVignettes), s)
	}
	for range 3 + g.r.IntN(3) {
		g.expandTo(&b, pick(g.r, scaledVignetteMore), s)
	}
	if safe := examContext[et]; len(safe) > 0 && g.r.IntN(3) > 0 {
		// a fact of a family the question does not ask about, as a stem's
		// background; the answer stays the stem's alone
		g.expandTo(&b, pick(g.r, examLeads)+pick(g.r, scaledCores[pick(g.r, safe)])+pick(g.r, examTails)+"，", s)
	}
	return b.String() + stem
}

// examLeads and examTails are the leads and tails that name no symptom
// or test, which could be a question's answer.
var examLeads, examTails = namingNoAnswer(scaledLeads), namingNoAnswer(scaledTails)

func namingNoAnswer(ts []string) []string {
	var out []string
	for _, t := range ts {
		if !strings.Contains(t, "{S") && !strings.Contains(t, "{T") {
			out = append(out, t)
		}
	}
	return out
}

// examContext are the fact families an exam question of each family may
// state as background without giving its answer away (none for a case,
// whose answer is the disease's name).
var examContext = [numETypes][]int{
	eSymptom: {qCause, qPrevent, qDiet, qDept}, eMultiSymptom: {qCause, qPrevent, qDiet, qDept},
	eDrug: {qCause, qTest, qPrevent, qDiet}, eTest: {qCause, qDrug, qPrevent, qDiet},
	eDept: {qCause, qDiet, qPrevent, qDrug}, eComplic: {qCause, qDiet, qPrevent, qTest},
}
