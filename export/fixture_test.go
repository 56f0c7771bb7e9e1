package export

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// fixture is a small stage set with the awkward cases an export must handle:
// line breaks inside documents, a system prompt, chats the trainers would
// drop, empty documents and Chinese text.
type fixture struct {
	dcpt map[string][]schemas.DCPTRow
	sft  map[string][]schemas.SFTRow
	dpo  map[string][]schemas.DPORow
	// adapt holds exam chats, a chat stage besides SFT.
	adapt map[string][]schemas.SFTRow
}

func u(s string) schemas.Turn { return schemas.Turn{Role: schemas.RoleUser, Content: s} }
func as(s string) schemas.Turn {
	return schemas.Turn{Role: schemas.RoleAssistant, Content: s}
}

func newFixture() fixture {
	f := fixture{dcpt: map[string][]schemas.DCPTRow{}, sft: map[string][]schemas.SFTRow{}, dpo: map[string][]schemas.DPORow{},
		adapt: map[string][]schemas.SFTRow{}}
	for si, split := range schemas.Splits {
		n := 5 - si*2 // train 5, valid 3, test 1
		for i := range n {
			id := fmt.Sprintf("%s-%d", split, i)
			f.dcpt[split] = append(f.dcpt[split], schemas.DCPTRow{ID: id, Source: "textbook", Kind: "text",
				Text: fmt.Sprintf("糖尿病是一组以高血糖为特征的代谢性疾病。\n\n第%d段：  胰岛素分泌缺陷。\r\n结束\u2028行", i)})
			f.sft[split] = append(f.sft[split], schemas.SFTRow{ID: id, Source: "qa", Kind: "qa",
				Messages: []schemas.Turn{u(fmt.Sprintf("糖尿病有哪些常见症状？(%d)", i)), as("多饮、多尿、多食和体重下降。")}})
			f.adapt[split] = append(f.adapt[split], schemas.SFTRow{ID: id, Source: "exam", Kind: "exam",
				Messages: []schemas.Turn{u(fmt.Sprintf("以下是一道医学考试单项选择题，请选出正确答案并给出解析。\n治疗1型糖尿病首选的药物是(%d)\nA. 二甲双胍\nB. 胰岛素", i)),
					as("答案：B. 胰岛素\n解析：1型糖尿病胰岛素绝对缺乏。")}})
			f.dpo[split] = append(f.dpo[split], schemas.DPORow{ID: id, Source: "exam", Kind: "exam",
				Prompt: "高血压的诊断标准是什么？", Chosen: "收缩压≥140mmHg和/或舒张压≥90mmHg。", Rejected: "血压高于120/80即可诊断。"})
		}
	}
	// Cases only the train split has.
	f.dcpt["train"] = append(f.dcpt["train"], schemas.DCPTRow{ID: "empty", Source: "textbook", Kind: "text", Text: " \n\t "})
	f.sft["train"] = append(f.sft["train"],
		schemas.SFTRow{ID: "sys", Source: "dlg", Kind: "dialogue", Messages: []schemas.Turn{
			{Role: schemas.RoleSystem, Content: "你是一名医生。"}, u("头痛怎么办？"), as("多休息。"), u("还要吃药吗？"), as("必要时服用止痛药。")}},
		schemas.SFTRow{ID: "twousers", Source: "dlg", Kind: "dialogue", Messages: []schemas.Turn{u("你好"), u("在吗"), as("在。")}},
		schemas.SFTRow{ID: "enduser", Source: "dlg", Kind: "dialogue", Messages: []schemas.Turn{u("你好"), as("你好。"), u("谢谢")}},
	)
	f.dpo["train"] = append(f.dpo["train"], schemas.DPORow{ID: "norej", Source: "pref", Kind: "preference", Prompt: "问", Chosen: "答"})
	return f
}

// write puts the fixture's stage files into workspace ws.
func (f fixture) write(t testing.TB, ws workspace.Dir) {
	t.Helper()
	for _, split := range schemas.Splits {
		if _, err := schemas.WriteFile(ws.StageFile(schemas.StageDCPT, split), slices.Values(f.dcpt[split])); err != nil {
			t.Fatal(err)
		}
		if _, err := schemas.WriteFile(ws.StageFile(schemas.StageSFT, split), slices.Values(f.sft[split])); err != nil {
			t.Fatal(err)
		}
		if _, err := schemas.WriteFile(ws.StageFile(schemas.StageDPO, split), slices.Values(f.dpo[split])); err != nil {
			t.Fatal(err)
		}
		if _, err := schemas.WriteFile(ws.StageFile(schemas.StageAdapt, split), slices.Values(f.adapt[split])); err != nil {
			t.Fatal(err)
		}
	}
}
