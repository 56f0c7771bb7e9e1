package export

import (
	"path/filepath"
	"strings"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

func init() {
	Register(medicalGPT{})
	Register(medicalGPT{legacy: true})
}

// medicalGPT writes export/medicalgpt/ in the folders the scripts of
// shibing624/MedicalGPT (the Qilin-Med recipe's open implementation) take
// as --train_file_dir / --validation_file_dir, one tree per stage so that
// each script finds only its own files. Since April 2026 its SFT and DPO
// scripts glob only **/*.jsonl and read ShareGPT rows; pretraining.py globs
// **/*.txt and **/*.jsonl, all of one type:
//   - pretrain/<split>/cpt.txt: one document a line, for pretraining.py;
//     line breaks inside a document become one space (see oneLine), blank
//     documents are skipped;
//   - sft/<split>/sft.jsonl: {"conversations": [{"from": "system"|"human"|
//     "gpt", "value": …}]}, for supervised_finetuning.py;
//   - reward/<split>/dpo.jsonl: {"conversations": [{"from": "human",
//     "value": prompt}], "chosen": …, "rejected": …}, for dpo_training.py
//     (and orpo_training.py, reward_modeling.py), the shape of its
//     data/reward/dpo_zh_500.jsonl.
//
// medicalgpt-legacy writes the layout MedicalGPT read before then (2023 to
// April 2026, the Qilin-Med era): the same pretrain/ tree, finetune/<split>/
// sft.jsonl, and reward/<split>/dpo.jsonl as {"system": "", "history": [],
// "question", "response_chosen", "response_rejected"}; those scripts glob
// **/*.json and **/*.jsonl. From April 2024 they read system and history
// beside the question, so both keys are always written.
type medicalGPT struct{ legacy bool }

func (m medicalGPT) Name() string {
	if m.legacy {
		return "medicalgpt-legacy"
	}
	return "medicalgpt"
}

// MGChat is an SFT row in MedicalGPT's ShareGPT layout.
type MGChat struct {
	Conversations []ShareGPTTurn `json:"conversations"`
}

// MGPreference is a DPO row in MedicalGPT's ShareGPT DPO layout: the prompt
// turns in conversations, the two answers as strings.
type MGPreference struct {
	Conversations []ShareGPTTurn `json:"conversations"`
	Chosen        string         `json:"chosen"`
	Rejected      string         `json:"rejected"`
}

// MGLegacyPreference is a DPO row in MedicalGPT's earlier reward layout.
// History holds earlier [question, answer] pairs; chimed's DPO prompts are
// single questions, so it is always empty, but present.
type MGLegacyPreference struct {
	System           string      `json:"system"`
	History          [][2]string `json:"history"`
	Question         string      `json:"question"`
	ResponseChosen   string      `json:"response_chosen"`
	ResponseRejected string      `json:"response_rejected"`
}

// folder names MedicalGPT's folder for each stage: its own names for the
// Qilin-Med stages, the stage's name for any other (adapt/<split>/sft.jsonl
// is SFT data for supervised_finetuning.py, kept apart from sft/).
func (m medicalGPT) folder(st schemas.Stage) string {
	switch {
	case st == schemas.StageDCPT:
		return "pretrain"
	case st == schemas.StageSFT && m.legacy:
		return "finetune"
	case st == schemas.StageSFT:
		return "sft"
	case st == schemas.StageDPO:
		return "reward"
	}
	return string(st)
}

// mgFiles names the file written in each split folder, by row shape.
var mgFiles = map[schemas.Shape]string{
	schemas.ShapeText: "cpt.txt",
	schemas.ShapeChat: "sft.jsonl",
	schemas.ShapePair: "dpo.jsonl",
}

func (m medicalGPT) Export(ws workspace.Dir, out string, _ Options, rep *Report) error {
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
	blank := func(r schemas.DPORow) bool {
		return strings.TrimSpace(r.Prompt) == "" || strings.TrimSpace(r.Chosen) == "" || strings.TrimSpace(r.Rejected) == ""
	}
	pref := func(r schemas.DPORow) (MGPreference, string) {
		if blank(r) {
			return MGPreference{}, skipEmptyPair
		}
		return MGPreference{[]ShareGPTTurn{{From: shareGPTHuman, Value: r.Prompt}}, r.Chosen, r.Rejected}, ""
	}
	legacyPref := func(r schemas.DPORow) (MGLegacyPreference, string) {
		if blank(r) {
			return MGLegacyPreference{}, skipEmptyPair
		}
		return MGLegacyPreference{History: [][2]string{}, Question: r.Prompt, ResponseChosen: r.Chosen, ResponseRejected: r.Rejected}, ""
	}
	for _, st := range schemas.Stages {
		shape, err := stageShape(st)
		if err != nil {
			return err
		}
		ins, err := stageInputs(ws, st, rep)
		if err != nil {
			return err
		}
		for _, in := range ins {
			rel := filepath.ToSlash(filepath.Join(m.folder(st), in.split, mgFiles[shape]))
			path := filepath.Join(out, rel)
			switch {
			case shape == schemas.ShapeText:
				var w *lineWriter
				if w, err = newLines(path); err == nil {
					err = convert(in, out, rel, w, text, rep)
				}
			case shape == schemas.ShapeChat:
				var w *jsonlWriter[MGChat]
				if w, err = newJSONL[MGChat](path); err == nil {
					err = convert(in, out, rel, w, chat, rep)
				}
			case shape == schemas.ShapePair && m.legacy:
				var w *jsonlWriter[MGLegacyPreference]
				if w, err = newJSONL[MGLegacyPreference](path); err == nil {
					err = convert(in, out, rel, w, legacyPref, rep)
				}
			case shape == schemas.ShapePair:
				var w *jsonlWriter[MGPreference]
				if w, err = newJSONL[MGPreference](path); err == nil {
					err = convert(in, out, rel, w, pref, rep)
				}
			default:
				err = errShape(m.Name(), st, shape)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
