package schemas

// Stage names a training stage; it is also the folder name under stages/ and runs/.
type Stage string

// The three training stages of the Qilin-Med recipe.
const (
	StageDCPT Stage = "dcpt"
	StageSFT  Stage = "sft"
	StageDPO  Stage = "dpo"
)

// Stages lists the training stages in the order they train.
var Stages = []Stage{StageDCPT, StageSFT, StageDPO}

// Splits lists the split files each stage folder holds.
var Splits = []string{"train", "valid", "test"}

// DCPTRow is one document for domain continued pre-training. Column names are
// the ones HF TRL and LLaMA-Factory read as they are ("text").
type DCPTRow struct {
	ID     string `parquet:"id" json:"id"`
	Source string `parquet:"source" json:"source"`
	Kind   string `parquet:"kind" json:"kind"`
	Text   string `parquet:"text" json:"text"`
}

// SFTRow is one chat for supervised fine-tuning ("messages" as TRL reads it).
type SFTRow struct {
	ID       string `parquet:"id" json:"id"`
	Source   string `parquet:"source" json:"source"`
	Kind     string `parquet:"kind" json:"kind"`
	Messages []Turn `parquet:"messages,list" json:"messages"`
}

// DPORow is one preference pair for direct preference optimisation
// ("prompt"/"chosen"/"rejected" as TRL's DPOTrainer reads them).
type DPORow struct {
	ID       string `parquet:"id" json:"id"`
	Source   string `parquet:"source" json:"source"`
	Kind     string `parquet:"kind" json:"kind"`
	Prompt   string `parquet:"prompt" json:"prompt"`
	Chosen   string `parquet:"chosen" json:"chosen"`
	Rejected string `parquet:"rejected" json:"rejected"`
}

// EvalQA is one held-out open question of stages/eval/qa.parquet.
type EvalQA struct {
	ID       string `parquet:"id" json:"id"`
	Source   string `parquet:"source" json:"source"`
	Question string `parquet:"question" json:"question"`
	Answer   string `parquet:"answer" json:"answer"`
}
