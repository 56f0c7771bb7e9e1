package export

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

func init() { Register(llamaFactory{}) }

// llamaFactory writes export/llamafactory/ as a LLaMA-Factory dataset_dir:
// one JSON Lines file per stage and split, chimed_<stage>_<split>.jsonl, and
// a dataset_info.json registering each under that name, following
// https://github.com/hiyouga/LLaMA-Factory/blob/main/data/README.md:
//   - dcpt (--stage pt): alpaca formatting, {"text": …}, columns {"prompt": "text"};
//   - sft (--stage sft): sharegpt formatting, {"conversations": [{"from":
//     "human"|"gpt", "value": …}], "system": …}, columns {"messages":
//     "conversations", "system": "system"} and the tags spelled out;
//   - dpo (--stage dpo): alpaca formatting with "ranking": true,
//     {"instruction", "chosen", "rejected"}.
//
// Use with --dataset_dir export/llamafactory --dataset chimed_sft_train.
type llamaFactory struct{}

func (llamaFactory) Name() string { return "llamafactory" }

// LFText is a pre-training row in LLaMA-Factory's alpaca layout.
type LFText struct {
	Text string `json:"text"`
}

// LFChat is an SFT row in LLaMA-Factory's sharegpt layout. System is
// always written, "" for none: dataset_info.json maps the "system" column,
// and a file in which no row had the key would have no such column.
type LFChat struct {
	Conversations []ShareGPTTurn `json:"conversations"`
	System        string         `json:"system"`
}

// LFPreference is a DPO row in LLaMA-Factory's alpaca ranking layout.
type LFPreference struct {
	Instruction string `json:"instruction"`
	Chosen      string `json:"chosen"`
	Rejected    string `json:"rejected"`
}

// LFDatasetInfo is one entry of dataset_info.json.
type LFDatasetInfo struct {
	FileName   string            `json:"file_name"`
	Formatting string            `json:"formatting"`
	Ranking    bool              `json:"ranking,omitempty"`
	Columns    map[string]string `json:"columns"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// lfInfo is the dataset_info.json entry of each row shape, without file_name.
var lfInfo = map[schemas.Shape]LFDatasetInfo{
	schemas.ShapeText: {Formatting: "alpaca", Columns: map[string]string{"prompt": "text"}},
	schemas.ShapeChat: {Formatting: "sharegpt",
		Columns: map[string]string{"messages": "conversations", "system": "system"},
		Tags: map[string]string{"role_tag": "from", "content_tag": "value",
			"user_tag": shareGPTHuman, "assistant_tag": shareGPTGPT, "system_tag": shareGPTSystem}},
	schemas.ShapePair: {Formatting: "alpaca", Ranking: true,
		Columns: map[string]string{"prompt": "instruction", "chosen": "chosen", "rejected": "rejected"}},
}

// LFDatasetName is the dataset_info.json key of a stage split.
func LFDatasetName(st schemas.Stage, split string) string {
	return fmt.Sprintf("chimed_%s_%s", st, split)
}

func (llamaFactory) Export(ws workspace.Dir, out string, _ Options, rep *Report) error {
	text := func(r schemas.DCPTRow) (LFText, string) {
		if strings.TrimSpace(r.Text) == "" {
			return LFText{}, skipEmptyText
		}
		return LFText{r.Text}, ""
	}
	chat := func(r schemas.SFTRow) (LFChat, string) {
		sys, turns, skip := shareGPT(r.Messages)
		return LFChat{Conversations: turns, System: sys}, skip
	}
	pref := func(r schemas.DPORow) (LFPreference, string) {
		if strings.TrimSpace(r.Prompt) == "" || strings.TrimSpace(r.Chosen) == "" || strings.TrimSpace(r.Rejected) == "" {
			return LFPreference{}, skipEmptyPair
		}
		return LFPreference{r.Prompt, r.Chosen, r.Rejected}, ""
	}
	info := map[string]LFDatasetInfo{}
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
			name := LFDatasetName(st, in.split)
			file := name + ".jsonl"
			before := len(rep.Files)
			switch shape {
			case schemas.ShapeText:
				err = lfFile(in, out, file, text, rep)
			case schemas.ShapeChat:
				err = lfFile(in, out, file, chat, rep)
			case schemas.ShapePair:
				err = lfFile(in, out, file, pref, rep)
			default:
				err = errShape("llamafactory", st, shape)
			}
			if err != nil {
				return err
			}
			if len(rep.Files) > before { // written, not skipped whole
				e := lfInfo[shape]
				e.FileName = file
				info[name] = e
			}
		}
	}
	if len(info) == 0 {
		return nil
	}
	return writeJSON(out, "dataset_info.json", info, rep) // encoding/json sorts map keys: stable bytes
}

func lfFile[In, Out any](in stageInput, out, file string, conv func(In) (Out, string), rep *Report) error {
	w, err := newJSONL[Out](filepath.Join(out, file))
	if err != nil {
		return err
	}
	return convert(in, out, file, w, conv, rep)
}
