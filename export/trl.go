package export

import (
	"path/filepath"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

func init() { Register(trl{}) }

// trl writes export/trl/<stage>/<split>.{parquet,jsonl} with exactly the
// columns HF TRL's trainers read as they are: "text" for SFTTrainer on plain
// text (DCPT), "messages" (list of {role, content}) for conversational
// SFTTrainer, and "prompt"/"chosen"/"rejected" for DPOTrainer. DPO rows are
// conversational by default (TRLConversational): TRL puts conversational
// rows, and only those, through the tokenizer's chat template, so SFT and
// DPO see prompts in one shape. Options.TRLDPO = TRLStandard writes the
// plain-string form instead. Load with datasets.load_dataset("parquet",
// data_files={"train": "dpo/train.parquet", ...}) or "json" on the .jsonl
// twins.
type trl struct{}

func (trl) Name() string { return "trl" }

// TRLText is a DCPT row as TRL reads it.
type TRLText struct {
	Text string `parquet:"text" json:"text"`
}

// TRLChat is an SFT row as TRL reads it.
type TRLChat struct {
	Messages []schemas.Turn `parquet:"messages,list" json:"messages"`
}

// TRLPreference is a DPO row in TRL's standard (plain-string) preference
// format, to which TRL applies no chat template.
type TRLPreference struct {
	Prompt   string `parquet:"prompt" json:"prompt"`
	Chosen   string `parquet:"chosen" json:"chosen"`
	Rejected string `parquet:"rejected" json:"rejected"`
}

// TRLChatPreference is a DPO row in TRL's conversational preference format:
// the prompt's messages (a user turn), and the chosen and rejected answers
// as one assistant message each, so that TRL renders prompt+chosen with the
// same chat template as the SFT rows.
type TRLChatPreference struct {
	Prompt   []schemas.Turn `parquet:"prompt,list" json:"prompt"`
	Chosen   []schemas.Turn `parquet:"chosen,list" json:"chosen"`
	Rejected []schemas.Turn `parquet:"rejected,list" json:"rejected"`
}

func (trl) Export(ws workspace.Dir, out string, opts Options, rep *Report) error {
	text := func(r schemas.DCPTRow) (TRLText, string) { return TRLText{r.Text}, "" }
	chat := func(r schemas.SFTRow) (TRLChat, string) {
		if r.Messages == nil {
			r.Messages = []schemas.Turn{} // [] in JSON, never null
		}
		return TRLChat{r.Messages}, ""
	}
	pref := func(r schemas.DPORow) (TRLPreference, string) {
		return TRLPreference{r.Prompt, r.Chosen, r.Rejected}, ""
	}
	chatPref := func(r schemas.DPORow) (TRLChatPreference, string) {
		return TRLChatPreference{
			Prompt:   []schemas.Turn{{Role: schemas.RoleUser, Content: r.Prompt}},
			Chosen:   []schemas.Turn{{Role: schemas.RoleAssistant, Content: r.Chosen}},
			Rejected: []schemas.Turn{{Role: schemas.RoleAssistant, Content: r.Rejected}},
		}, ""
	}
	rep.Form = string(opts.TRLDPO)
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
			var err error
			switch {
			case shape == schemas.ShapeText:
				err = trlBoth(in, out, text, rep)
			case shape == schemas.ShapeChat:
				err = trlBoth(in, out, chat, rep)
			case shape == schemas.ShapePair && opts.TRLDPO == TRLStandard:
				err = trlBoth(in, out, pref, rep)
			case shape == schemas.ShapePair:
				err = trlBoth(in, out, chatPref, rep)
			default:
				err = errShape("trl", st, shape)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// trlBoth writes one stage split as Parquet and as JSON Lines.
func trlBoth[In, Out any](in stageInput, out string, conv func(In) (Out, string), rep *Report) error {
	base := filepath.ToSlash(filepath.Join(string(in.stage), in.split))
	pw, err := newParquet[Out](filepath.Join(out, base+".parquet"))
	if err != nil {
		return err
	}
	if err := convert(in, out, base+".parquet", pw, conv, rep); err != nil {
		return err
	}
	jw, err := newJSONL[Out](filepath.Join(out, base+".jsonl"))
	if err != nil {
		return err
	}
	return convert(in, out, base+".jsonl", jw, conv, rep)
}
