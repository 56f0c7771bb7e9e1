package schemas

import (
	"fmt"
	"slices"
)

// Stage names a training stage; it is also the folder name under stages/ and runs/.
type Stage string

// The training stages: the three of the Qilin-Med recipe, and AntGLM-Med's
// task adaptation on exam questions after SFT.
const (
	StageDCPT  Stage = "dcpt"
	StageSFT   Stage = "sft"
	StageDPO   Stage = "dpo"
	StageAdapt Stage = "adapt"
)

// Shape is what one row of a stage file holds, and so its Go type, its
// Arrow schema and how every exporter writes it.
type Shape string

// The stage row shapes.
const (
	ShapeText Shape = "text" // DCPTRow: one document
	ShapeChat Shape = "chat" // SFTRow: one conversation
	ShapePair Shape = "pair" // DPORow: a prompt with a chosen and a rejected answer
)

// Objective is how the trainer learns from a stage's rows.
type Objective string

// The training objectives.
const (
	// ObjectiveLM is the language-model loss: the mean NLL of the tokens a
	// row teaches (every token of a document, the assistant's of a chat).
	ObjectiveLM Objective = "lm"
	// ObjectivePreference is the train.dpo.loss preference loss over
	// (chosen, rejected) pairs, against the parent's model as reference.
	ObjectivePreference Objective = "preference"
)

// StageSpec is one row of the stage table: everything build-stages, the
// trainer, evaluation, stats and export need to know about a stage besides
// the code that makes its rows (a builder in package stages) and its
// objective (in package trainer).
type StageSpec struct {
	Name Stage
	// Title is the stage's name in reports ("DCPT").
	Title string
	// Parent is the stage whose run this one starts from; "" trains from
	// random weights and builds the tokenizer.
	Parent    Stage
	Shape     Shape
	Objective Objective
	// AnswerFirst: a chat too long for the model's context loses the
	// beginning of its prompt rather than the end of its answer, as
	// evaluation scores an exam prompt (the answer letter must be read).
	AnswerFirst bool
	// Optional stages are skipped, not failed, when they have no training
	// rows (a corpus without exam training questions has nothing to adapt to).
	Optional bool
	// Description says what a row is for, in dataset cards.
	Description string
}

// stageTable lists the stages in the order they train.
var stageTable = []StageSpec{
	{Name: StageDCPT, Title: "DCPT", Shape: ShapeText, Objective: ObjectiveLM,
		Description: "Domain continued pre-training documents: one medical text a row in \"text\"."},
	{Name: StageSFT, Title: "SFT", Parent: StageDCPT, Shape: ShapeChat, Objective: ObjectiveLM,
		Description: "Supervised fine-tuning chats: \"messages\" is a list of {role, content} (system, user, assistant)."},
	{Name: StageDPO, Title: "DPO", Parent: StageSFT, Shape: ShapePair, Objective: ObjectivePreference,
		Description: "Direct preference optimisation pairs: a \"prompt\" with a \"chosen\" and a \"rejected\" answer."},
	{Name: StageAdapt, Title: "adapt", Parent: StageSFT, Shape: ShapeChat, Objective: ObjectiveLM,
		AnswerFirst: true, Optional: true,
		Description: "Task adaptation chats: exam training questions asked as the exam is, answered with the letter, the option and the explanation."},
}

// Stages lists the training stages in the order they train (the names of
// StageTable).
var Stages = stageNames()

func stageNames() []Stage {
	names := make([]Stage, len(stageTable))
	for i, s := range stageTable {
		names[i] = s.Name
	}
	return names
}

// StageTable returns the stage table in training order.
func StageTable() []StageSpec { return slices.Clone(stageTable) }

// Spec returns the table row of a stage.
func Spec(s Stage) (StageSpec, bool) {
	for _, sp := range stageTable {
		if sp.Name == s {
			return sp, true
		}
	}
	return StageSpec{}, false
}

// AddStage appends a stage to the table, after its parent's row has been
// added, and returns the function that removes it again. It is how a
// stage outside this package (a test's) joins every step; it is not safe
// to call while another goroutine reads the table. A shape no step knows
// is accepted here and fails, naming the stage, in every step that meets it.
func AddStage(sp StageSpec) (remove func(), err error) {
	if _, dup := Spec(sp.Name); dup || sp.Name == "" || sp.Name == "eval" {
		return nil, fmt.Errorf("stage %q: name is empty, reserved or taken", sp.Name)
	}
	if _, ok := Spec(sp.Parent); sp.Parent != "" && !ok {
		return nil, fmt.Errorf("stage %q: parent %q is no stage", sp.Name, sp.Parent)
	}
	if sp.Shape == "" {
		return nil, fmt.Errorf("stage %q: no row shape", sp.Name)
	}
	if sp.Objective != ObjectiveLM && sp.Objective != ObjectivePreference {
		return nil, fmt.Errorf("stage %q: unknown objective %q", sp.Name, sp.Objective)
	}
	stageTable = append(stageTable, sp)
	Stages = stageNames()
	return func() {
		stageTable = slices.DeleteFunc(stageTable, func(s StageSpec) bool { return s.Name == sp.Name })
		Stages = stageNames()
	}, nil
}

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
