package trainer

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// A small templated medical corpus, so trainer tests do not wait for the
// stages step: every split of every stage, written with schemas.WriteFile.
var (
	diseases = []struct{ name, symptom, drug, dept string }{
		{"高血压", "头晕、头痛", "氨氯地平", "心内科"},
		{"糖尿病", "多饮、多尿、体重下降", "二甲双胍", "内分泌科"},
		{"支气管哮喘", "反复喘息、胸闷", "布地奈德", "呼吸科"},
		{"胃溃疡", "上腹部疼痛、反酸", "奥美拉唑", "消化内科"},
		{"冠心病", "胸痛、心悸", "阿司匹林", "心内科"},
		{"甲状腺功能亢进", "心慌、手抖、怕热", "甲巯咪唑", "内分泌科"},
		{"缺铁性贫血", "乏力、面色苍白", "硫酸亚铁", "血液科"},
		{"偏头痛", "单侧搏动性头痛", "布洛芬", "神经内科"},
		{"肺炎", "发热、咳嗽、咳痰", "阿莫西林", "呼吸科"},
		{"痛风", "关节红肿疼痛", "秋水仙碱", "风湿免疫科"},
	}
	ages = []string{"二十岁", "三十五岁", "四十岁", "五十二岁", "六十八岁"}
)

func fixtureDCPT(n int) []schemas.DCPTRow {
	var out []schemas.DCPTRow
	for i := range n {
		d := diseases[i%len(diseases)]
		text := fmt.Sprintf("%s是临床常见疾病，典型表现为%s。患者应到%s就诊，常用药物包括%s，需遵医嘱规律服用并定期复查。", d.name, d.symptom, d.dept, d.drug)
		if i%3 == 1 {
			text = fmt.Sprintf("一位%s的患者出现%s，经检查诊断为%s。治疗上给予%s，同时建议调整生活方式。", ages[i%len(ages)], d.symptom, d.name, d.drug)
		}
		out = append(out, schemas.DCPTRow{ID: fmt.Sprint("d", i), Source: "fixture", Kind: "text", Text: text})
	}
	return out
}

func fixtureQA(i int) (q, a string) {
	d := diseases[i%len(diseases)]
	switch i % 3 {
	case 0:
		return fmt.Sprintf("%s有哪些症状？", d.name), fmt.Sprintf("%s的常见症状是%s。", d.name, d.symptom)
	case 1:
		return fmt.Sprintf("%s吃什么药？", d.name), fmt.Sprintf("%s常用%s治疗，请遵医嘱。", d.name, d.drug)
	default:
		return fmt.Sprintf("%s应该挂什么科？", d.name), fmt.Sprintf("%s建议到%s就诊。", d.name, d.dept)
	}
}

func fixtureSFT(n int) []schemas.SFTRow {
	var out []schemas.SFTRow
	for i := range n {
		q, a := fixtureQA(i)
		out = append(out, schemas.SFTRow{ID: fmt.Sprint("s", i), Source: "fixture", Kind: "qa", Messages: []schemas.Turn{
			{Role: schemas.RoleUser, Content: q}, {Role: schemas.RoleAssistant, Content: a},
		}})
	}
	return out
}

func fixtureDPO(n int) []schemas.DPORow {
	var out []schemas.DPORow
	for i := range n {
		q, a := fixtureQA(i)
		out = append(out, schemas.DPORow{ID: fmt.Sprint("p", i), Source: "fixture", Kind: "preference",
			Prompt: q, Chosen: a, Rejected: "不知道，随便吃点药就好。"})
	}
	return out
}

// fixtureAdapt is exam chats as the adapt stage holds them: a long
// question with five options, answered "答案：…（X）" with an explanation.
func fixtureAdapt(n int) []schemas.SFTRow {
	var out []schemas.SFTRow
	for i := range n {
		d := diseases[i%len(diseases)]
		var q strings.Builder
		q.WriteString("以下是一道医学考试单项选择题，请选出正确答案并给出解析。\n")
		fmt.Fprintf(&q, "一位%s的患者出现%s，最可能的诊断是", ages[i%len(ages)], d.symptom)
		gold := "ABCDE"[i%5 : i%5+1]
		for j, l := range "ABCDE" {
			fmt.Fprintf(&q, "\n%c. %s", l, diseases[(i+j-i%5+len(diseases))%len(diseases)].name)
		}
		out = append(out, schemas.SFTRow{ID: fmt.Sprint("x", i), Source: "fixture", Kind: "exam", Messages: []schemas.Turn{
			{Role: schemas.RoleUser, Content: q.String()},
			{Role: schemas.RoleAssistant, Content: "答案：" + d.name + "（" + gold + "）\n解析：" + d.symptom + "是" + d.name + "的典型表现。"},
		}})
	}
	return out
}

func writeStage[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if _, err := schemas.WriteFile(path, iter.Seq[T](slices.Values(rows))); err != nil {
		t.Fatal(err)
	}
}

// fixtureWorkspace writes stages/{dcpt,sft,dpo,adapt}/{train,valid,test}.parquet.
func fixtureWorkspace(t *testing.T) workspace.Dir {
	t.Helper()
	ws := workspace.Dir(t.TempDir())
	for _, split := range schemas.Splits {
		n := map[string]int{"train": 1, "valid": 0, "test": 0}[split]
		k := 60 + 60*n
		writeStage(t, ws.StageFile(schemas.StageDCPT, split), fixtureDCPT(k))
		writeStage(t, ws.StageFile(schemas.StageSFT, split), fixtureSFT(k))
		writeStage(t, ws.StageFile(schemas.StageDPO, split), fixtureDPO(k/2))
		writeStage(t, ws.StageFile(schemas.StageAdapt, split), fixtureAdapt(k/2))
	}
	return ws
}

func tinyConfig() Config {
	return Config{Preset: "tiny", Seed: 7, CheckpointEvery: 10, LogEvery: 5}.WithDefaults()
}
