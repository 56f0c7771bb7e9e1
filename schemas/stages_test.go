package schemas

import (
	"slices"
	"strings"
	"testing"
)

// TestStageTable checks the shipped table: parents train first, every
// shape has an Arrow schema, and Stages lists the table's names in order.
func TestStageTable(t *testing.T) {
	seen := map[Stage]bool{}
	for i, sp := range StageTable() {
		if Stages[i] != sp.Name {
			t.Errorf("Stages[%d] = %s, table row %d is %s", i, Stages[i], i, sp.Name)
		}
		if sp.Parent != "" && !seen[sp.Parent] {
			t.Errorf("%s: parent %s does not train before it", sp.Name, sp.Parent)
		}
		if _, err := ShapeArrowSchema(sp.Shape); err != nil {
			t.Errorf("%s: %v", sp.Name, err)
		}
		if sp.Title == "" || sp.Description == "" {
			t.Errorf("%s: no title or description", sp.Name)
		}
		seen[sp.Name] = true
	}
	if sp, ok := Spec(StageAdapt); !ok || sp.Parent != StageSFT || sp.Shape != ShapeChat || !sp.AnswerFirst {
		t.Errorf("adapt row = %+v", sp)
	}
}

func TestAddStage(t *testing.T) {
	for _, c := range []struct {
		name string
		spec StageSpec
		err  string
	}{
		{"ok", StageSpec{Name: "toy", Parent: StageSFT, Shape: ShapeChat, Objective: ObjectiveLM}, ""},
		{"taken", StageSpec{Name: StageSFT, Shape: ShapeChat, Objective: ObjectiveLM}, "taken"},
		{"reserved", StageSpec{Name: "eval", Shape: ShapeChat, Objective: ObjectiveLM}, "reserved"},
		{"no parent", StageSpec{Name: "toy", Parent: "nope", Shape: ShapeChat, Objective: ObjectiveLM}, "parent"},
		{"no shape", StageSpec{Name: "toy", Objective: ObjectiveLM}, "shape"},
		{"no objective", StageSpec{Name: "toy", Shape: ShapeText, Objective: "rl"}, "objective"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := slices.Clone(Stages)
			remove, err := AddStage(c.spec)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := Spec(c.spec.Name); !ok || got.Parent != c.spec.Parent || Stages[len(Stages)-1] != c.spec.Name {
				t.Errorf("added stage not in the table: %v", Stages)
			}
			remove()
			if !slices.Equal(Stages, before) {
				t.Errorf("after remove: %v, want %v", Stages, before)
			}
			if _, ok := Spec(c.spec.Name); ok {
				t.Error("removed stage still found")
			}
		})
	}
}
