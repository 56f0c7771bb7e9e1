package export

import (
	"path/filepath"
	"strings"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

func init() { Register(medicalGPT{}) }

// medicalGPT writes export/medicalgpt/ in the folders MedicalGPT's scripts
// (shibing624/MedicalGPT, the Qilin-Med recipe's open implementation) take as
// --train_file_dir / --validation_file_dir. Each script reads every *.txt,
// *.json and *.jsonl below its folder, so each stage gets its own tree:
//   - pretrain/<split>/cpt.txt: one document a line, for pretraining.py;
//     line breaks inside a document become one space (see oneLine), blank
//     documents are skipped;
//   - finetune/<split>/sft.jsonl: ShareGPT {"conversations": [{"from":
//     "system"|"human"|"gpt", "value": …}]}, for supervised_finetuning.py;
//   - reward/<split>/dpo.json: JSON Lines {"question", "response_chosen",
//     "response_rejected"}: the Qilin-Med DPO shape (its dpo_training.py
//     reads data/dpo/dpo.json so) and that of MedicalGPT's earlier reward
//     files (data/reward/test.json);
//   - reward-sharegpt/<split>/dpo.jsonl: the ShareGPT DPO shape current
//     MedicalGPT ships in data/reward/dpo_zh_500.jsonl, {"conversations":
//     [{"from": "system"?}, {"from": "human", "value": prompt}], "chosen",
//     "rejected"}, in its own folder because the scripts read every file of
//     a folder and the two shapes cannot share one.
type medicalGPT struct{}

func (medicalGPT) Name() string { return "medicalgpt" }

// MGChat is an SFT row in MedicalGPT's ShareGPT layout.
type MGChat struct {
	Conversations []ShareGPTTurn `json:"conversations"`
}

// MGPreference is a DPO row in MedicalGPT's reward layout.
type MGPreference struct {
	Question         string `json:"question"`
	ResponseChosen   string `json:"response_chosen"`
	ResponseRejected string `json:"response_rejected"`
}

// MGShareGPTPreference is a DPO row in current MedicalGPT's ShareGPT DPO layout.
type MGShareGPTPreference struct {
	Conversations []ShareGPTTurn `json:"conversations"`
	Chosen        string         `json:"chosen"`
	Rejected      string         `json:"rejected"`
}

// mgFolders names MedicalGPT's folder and file for each stage.
var mgFolders = map[schemas.Stage][2]string{
	schemas.StageDCPT: {"pretrain", "cpt.txt"},
	schemas.StageSFT:  {"finetune", "sft.jsonl"},
	schemas.StageDPO:  {"reward", "dpo.json"},
}

func (medicalGPT) Export(ws workspace.Dir, out string, rep *Report) error {
	text := func(r schemas.DCPTRow) (string, string) {
		line := oneLine(r.Text)
		if line == "" {
			return "", skipEmptyText
		}
		return line, ""
	}
	chat := func(r schemas.SFTRow) (MGChat, string) {
		sys, turns, skip := shareGPT(r.Messages)
		if skip != "" {
			return MGChat{}, skip
		}
		if sys != "" {
			turns = append([]ShareGPTTurn{{From: shareGPTSystem, Value: sys}}, turns...)
		}
		return MGChat{turns}, ""
	}
	pref := func(r schemas.DPORow) (MGPreference, string) {
		if strings.TrimSpace(r.Prompt) == "" || strings.TrimSpace(r.Chosen) == "" || strings.TrimSpace(r.Rejected) == "" {
			return MGPreference{}, skipEmptyPair
		}
		return MGPreference{r.Prompt, r.Chosen, r.Rejected}, ""
	}
	sharePref := func(r schemas.DPORow) (MGShareGPTPreference, string) {
		p, skip := pref(r)
		return MGShareGPTPreference{[]ShareGPTTurn{{From: shareGPTHuman, Value: p.Question}}, p.ResponseChosen, p.ResponseRejected}, skip
	}
	for _, st := range schemas.Stages {
		ins, err := stageInputs(ws, st, rep)
		if err != nil {
			return err
		}
		for _, in := range ins {
			rel := filepath.ToSlash(filepath.Join(mgFolders[st][0], in.split, mgFolders[st][1]))
			path := filepath.Join(out, rel)
			switch st {
			case schemas.StageDCPT:
				var w *lineWriter
				if w, err = newLines(path); err == nil {
					err = convert(in, out, rel, w, text, rep)
				}
			case schemas.StageSFT:
				var w *jsonlWriter[MGChat]
				if w, err = newJSONL[MGChat](path); err == nil {
					err = convert(in, out, rel, w, chat, rep)
				}
			case schemas.StageDPO:
				var w *jsonlWriter[MGPreference]
				if w, err = newJSONL[MGPreference](path); err == nil {
					err = convert(in, out, rel, w, pref, rep)
				}
				if err == nil {
					rel := filepath.ToSlash(filepath.Join("reward-sharegpt", in.split, "dpo.jsonl"))
					var w *jsonlWriter[MGShareGPTPreference]
					if w, err = newJSONL[MGShareGPTPreference](filepath.Join(out, rel)); err == nil {
						err = convert(in, out, rel, w, sharePref, rep)
					}
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
