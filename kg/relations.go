package kg

import (
	"strings"
	"unicode"
)

// Relation is one canonical relation: the name every alias maps to, and the
// Chinese templates that verbalise it. In templates {h} is the head entity,
// {t} the tails joined by "、" and {r} the relation name.
type Relation struct {
	Name    string
	Aliases []string
	// Facts are declarative sentences for DCPT paragraphs; one is chosen
	// per (head, relation) by hashing, so the same input reads the same.
	Facts []string
	// Questions ask for the tails: SFT gets one per (head, relation),
	// DCPT text every one (Graph.QATexts).
	Questions []string
	// Answer answers any of the Questions.
	Answer string
}

// generic verbalises a relation the table does not know.
var generic = Relation{
	Facts:     []string{"{h}的{r}为{t}。", "{h}的{r}包括{t}。", "关于{h}，其{r}有{t}。"},
	Questions: []string{"{h}的{r}是什么？", "{h}的{r}有哪些？"},
	Answer:    "{h}的{r}为{t}。",
}

// Relations is the built-in relation table, in the order a paragraph
// mentions them. Aliases cover the public KGs of ../shared/corpus
// (QASystemOnMedicalKG field names, CMeIE predicates, K-BERT's 类别) and
// common English names.
var Relations = []Relation{
	{Name: "类别", Aliases: []string{"category", "type", "is_a", "isa", "类型", "分类", "所属类别"},
		Facts:     []string{"{h}属于{t}。", "{h}是一种{t}。", "{h}归类为{t}。"},
		Questions: []string{"{h}属于哪一类？", "{h}是什么类别的？"},
		Answer:    "{h}属于{t}。"},
	{Name: "同义词", Aliases: []string{"synonym", "alias", "别名", "又称", "同义"},
		Facts:     []string{"{h}又称{t}。", "{h}也叫{t}。", "{h}的别名有{t}。"},
		Questions: []string{"{h}还有什么别称？", "{h}又叫什么？"},
		Answer:    "{h}又称{t}。"},
	{Name: "症状", Aliases: []string{"symptom", "symptoms", "has_symptom", "临床表现", "相关（症状）", "典型症状", "常见症状", "表现"},
		Facts:     []string{"{h}的常见症状有{t}。", "{h}患者常出现{t}等症状。", "{h}通常表现为{t}。"},
		Questions: []string{"{h}有哪些常见症状？", "{h}会出现什么症状？", "得了{h}会有哪些表现？", "{h}的临床表现有哪些？", "{h}患者会有什么不适？"},
		Answer:    "{h}的常见症状包括{t}。"},
	{Name: "病因", Aliases: []string{"cause", "causes", "etiology", "相关（导致）", "致病原因", "原因"},
		Facts:     []string{"{h}的病因包括{t}。", "{h}多由{t}引起。", "导致{h}的原因有{t}。"},
		Questions: []string{"{h}是什么原因引起的？", "{h}的病因有哪些？"},
		Answer:    "{h}的病因包括{t}。"},
	{Name: "危险因素", Aliases: []string{"risk_factor", "risk_factors", "高危因素", "风险评估因素"},
		Facts:     []string{"{h}的危险因素有{t}。", "{t}会增加患{h}的风险。"},
		Questions: []string{"{h}有哪些危险因素？", "哪些因素会增加患{h}的风险？"},
		Answer:    "{h}的危险因素包括{t}。"},
	{Name: "易感人群", Aliases: []string{"easy_get", "susceptible", "susceptible_population", "多发群体", "发病人群"},
		Facts:     []string{"{h}的易感人群为{t}。", "{h}多见于{t}。", "{t}较易患{h}。"},
		Questions: []string{"哪些人容易得{h}？", "{h}的易感人群有哪些？"},
		Answer:    "{h}的易感人群为{t}。"},
	{Name: "发病部位", Aliases: []string{"location", "body_part", "部位", "病变部位"},
		Facts:     []string{"{h}的发病部位在{t}。", "{h}多发生于{t}。"},
		Questions: []string{"{h}发生在哪个部位？", "{h}的发病部位在哪里？"},
		Answer:    "{h}的发病部位在{t}。"},
	{Name: "传播途径", Aliases: []string{"transmission", "传染方式"},
		Facts:     []string{"{h}的传播途径为{t}。", "{h}可经{t}传播。"},
		Questions: []string{"{h}是怎么传播的？", "{h}的传播途径有哪些？"},
		Answer:    "{h}的传播途径为{t}。"},
	{Name: "并发症", Aliases: []string{"acompany", "accompany", "acompany_with", "accompany_with", "complication", "complications", "has_complication", "并发疾病", "伴随疾病"},
		Facts:     []string{"{h}可并发{t}。", "{h}的常见并发症有{t}。", "{h}患者可能伴发{t}。"},
		Questions: []string{"{h}可能引起哪些并发症？", "{h}有哪些并发症？", "{h}会合并哪些疾病？"},
		Answer:    "{h}的并发症包括{t}。"},
	{Name: "鉴别诊断", Aliases: []string{"differential_diagnosis", "differential"},
		Facts:     []string{"{h}需要与{t}相鉴别。", "诊断{h}时应注意与{t}鉴别。"},
		Questions: []string{"{h}需要与哪些疾病鉴别？", "{h}应与什么病相鉴别？"},
		Answer:    "{h}需要与{t}相鉴别。"},
	{Name: "检查", Aliases: []string{"check", "checks", "examination", "need_check", "实验室检查", "影像学检查", "辅助检查", "组织学检查", "内窥镜检查", "筛查", "检查项目"},
		Facts:     []string{"诊断{h}常做{t}等检查。", "{h}的常用检查项目有{t}。", "{h}可通过{t}进行检查。"},
		Questions: []string{"{h}需要做哪些检查？", "怎样检查是否患有{h}？", "确诊{h}要做什么检查？", "{h}应该查什么？"},
		Answer:    "{h}的常用检查包括{t}。"},
	{Name: "就诊科室", Aliases: []string{"cure_department", "department", "所属科室", "科室"},
		Facts:     []string{"{h}一般到{t}就诊。", "{h}的就诊科室为{t}。", "{h}患者通常应就诊于{t}。"},
		Questions: []string{"{h}应该挂哪个科？", "{h}要看什么科室？", "得了{h}看哪个科？"},
		Answer:    "{h}一般就诊于{t}。"},
	{Name: "治疗方法", Aliases: []string{"cure_way", "treatment", "treatments", "治疗方式", "治疗", "手术治疗", "辅助治疗", "放射治疗", "化疗", "其他治疗"},
		Facts:     []string{"{h}的治疗方法有{t}。", "{h}可采用{t}进行治疗。", "临床上治疗{h}常用{t}。"},
		Questions: []string{"{h}怎么治疗？", "{h}有哪些治疗方法？"},
		Answer:    "{h}的治疗方法包括{t}。"},
	{Name: "常用药物", Aliases: []string{"common_drug", "recommand_drug", "recommend_drug", "drug", "drugs", "has_drug", "药物治疗", "常用药品", "推荐药品", "药物", "用药"},
		Facts:     []string{"治疗{h}的常用药物有{t}。", "{h}可选用{t}等药物治疗。", "{h}的常用药包括{t}。"},
		Questions: []string{"{h}常用哪些药物治疗？", "治疗{h}可以吃什么药？", "{h}一般用什么药？", "得了{h}吃什么药好？"},
		Answer:    "治疗{h}的常用药物有{t}，具体用药请遵医嘱。"},
	{Name: "所属", Aliases: []string{"belongs_to", "belong_to", "隶属", "归属"},
		Facts:     []string{"{h}属于{t}。", "{h}归属于{t}。"},
		Questions: []string{"{h}属于什么科室？", "{h}归哪个科室管？"},
		Answer:    "{h}属于{t}。"},
	{Name: "适应症", Aliases: []string{"indication", "indications", "主治", "功能主治", "适应证"},
		Facts:     []string{"{h}适用于{t}。", "{h}可用于治疗{t}。", "{h}的适应症包括{t}。"},
		Questions: []string{"{h}主要治疗什么病？", "{h}的适应症有哪些？"},
		Answer:    "{h}的适应症包括{t}。"},
	{Name: "可能疾病", Aliases: []string{"possible_disease", "possible_diseases", "相关疾病"},
		Facts:     []string{"{h}可见于{t}。", "出现{h}时可能患有{t}。"},
		Questions: []string{"出现{h}可能是什么病？", "{h}可能是哪些疾病的表现？"},
		Answer:    "{h}可见于{t}等疾病。"},
	{Name: "生产药品", Aliases: []string{"drugs_of", "produces", "生产"},
		Facts:     []string{"{h}生产的药品有{t}。", "{h}出品{t}等药品。"},
		Questions: []string{"{h}生产哪些药品？"},
		Answer:    "{h}生产的药品有{t}。"},
	{Name: "治疗周期", Aliases: []string{"cure_lasttime", "treatment_duration", "治疗时间"},
		Facts:     []string{"{h}的治疗周期一般为{t}。", "{h}通常需要治疗{t}。"},
		Questions: []string{"{h}一般要治疗多久？", "{h}的治疗周期是多长？"},
		Answer:    "{h}的治疗周期一般为{t}。"},
	{Name: "治愈率", Aliases: []string{"cured_prob", "cure_rate", "治愈概率"},
		Facts:     []string{"{h}的治愈率约为{t}。", "{h}经治疗的治愈率为{t}。"},
		Questions: []string{"{h}的治愈率是多少？", "{h}能治好吗？"},
		Answer:    "{h}的治愈率约为{t}。"},
	{Name: "患病比例", Aliases: []string{"get_prob", "prevalence", "发病率", "患病率"},
		Facts:     []string{"{h}的患病比例约为{t}。", "{h}在人群中的患病比例为{t}。"},
		Questions: []string{"{h}的患病率高吗？", "{h}的患病比例是多少？"},
		Answer:    "{h}的患病比例约为{t}。"},
	{Name: "预防", Aliases: []string{"prevent", "prevention", "预防措施"},
		Facts:     []string{"预防{h}的措施有{t}。", "{h}的预防方法包括{t}。"},
		Questions: []string{"如何预防{h}？", "{h}该怎么预防？"},
		Answer:    "{h}的预防措施包括{t}。"},
	{Name: "宜吃", Aliases: []string{"do_eat", "recommand_eat", "recommend_eat", "宜吃食物", "推荐食谱", "宜食"},
		Facts:     []string{"{h}患者宜吃{t}。", "{h}患者饮食上可以多吃{t}。"},
		Questions: []string{"{h}患者适合吃什么？", "{h}吃什么好？"},
		Answer:    "{h}患者宜吃{t}。"},
	{Name: "忌吃", Aliases: []string{"not_eat", "no_eat", "avoid_eat", "忌吃食物", "忌食"},
		Facts:     []string{"{h}患者忌吃{t}。", "{h}患者应避免食用{t}。"},
		Questions: []string{"{h}患者不能吃什么？", "{h}有哪些饮食禁忌？"},
		Answer:    "{h}患者应忌吃{t}。"},
}

// normRelation folds a relation name for lookup: case, width of brackets,
// spaces, and "-"/" " against "_".
func normRelation(s string) string {
	s = strings.TrimSpace(strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		switch {
		case r == '（':
			return '('
		case r == '）':
			return ')'
		case r == '-' || r == ' ':
			return '_'
		case unicode.IsSpace(r):
			return -1
		}
		return r
	}, s)
}

// RelationTable maps raw relation names to canonical relations.
type RelationTable struct {
	alias  map[string]string // normRelation(alias) → canonical name
	byName map[string]int    // canonical name → index in Relations
}

// NewRelationTable builds the built-in table plus the config's extra aliases
// (which win over built-in ones).
func NewRelationTable(extra map[string]string) *RelationTable {
	t := &RelationTable{alias: map[string]string{}, byName: map[string]int{}}
	for i, r := range Relations {
		t.byName[r.Name] = i
		t.alias[normRelation(r.Name)] = r.Name
		for _, a := range r.Aliases {
			t.alias[normRelation(a)] = r.Name
		}
	}
	for from, to := range extra {
		to = strings.TrimSpace(to)
		if c, ok := t.alias[normRelation(to)]; ok {
			to = c // an alias of an alias resolves to the canonical name
		}
		t.alias[normRelation(from)] = to
	}
	return t
}

// Canonical returns the canonical name of a raw relation name; an unknown
// name is returned trimmed, so it still dedups with itself.
func (t *RelationTable) Canonical(raw string) string {
	if c, ok := t.alias[normRelation(raw)]; ok {
		return c
	}
	return strings.TrimSpace(raw)
}

// templates returns the relation's templates and its rank for ordering
// (unknown relations after every known one).
func (t *RelationTable) templates(name string) (Relation, int) {
	if i, ok := t.byName[name]; ok {
		return Relations[i], i
	}
	return generic, len(Relations)
}
