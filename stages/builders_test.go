package stages

import (
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

func TestAddBuilderRefuses(t *testing.T) {
	rows := func(any) []any { return nil }
	for _, c := range []struct {
		name string
		b    Builder
		err  string
	}{
		{"unknown stage", Builder{Stage: "nope", Kind: schemas.KindQA, Rows: rows}, "no such stage"},
		{"kg", Builder{Stage: schemas.StageSFT, Kind: schemas.KindKG, Rows: rows}, "takes no builder"},
		{"unknown kind", Builder{Stage: schemas.StageSFT, Kind: "audio", Rows: rows}, "takes no builder"},
		{"no rows", Builder{Stage: schemas.StageSFT, Kind: schemas.KindQA}, "no Rows"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := AddBuilder(c.b); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("err = %v, want %q", err, c.err)
			}
		})
	}
}

// TestBuilderMakesAStage adds a stage and its builder and sees Build write
// its rows like any other stage's: counted per source in the manifest,
// lineage beside them, eval overlaps refused, the leakage check passed.
func TestBuilderMakesAStage(t *testing.T) {
	removeStage, err := schemas.AddStage(schemas.StageSpec{Name: "echo", Title: "Echo", Parent: schemas.StageSFT,
		Shape: schemas.ShapeText, Objective: schemas.ObjectiveLM})
	if err != nil {
		t.Fatal(err)
	}
	defer removeStage()
	removeBuilder, err := AddBuilder(Builder{Stage: "echo", Kind: schemas.KindQA, Rows: func(rec any) []any {
		q := rec.(*schemas.QA)
		if q.ID == "q01" { // one row that copies an eval question
			return []any{schemas.DCPTRow{Text: "病例：" + evalQuestion}}
		}
		return []any{schemas.DCPTRow{Text: q.Question + q.Question}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer removeBuilder()
	ws := fixture(t)
	m := build(t, options(ws, 7))
	var n int64
	for _, split := range schemas.Splits {
		rows := readAll[schemas.DCPTRow](t, ws.StageFile("echo", split))
		lin := readAll[LineageRow](t, LineagePath(ws, "echo/"+split))
		if len(rows) != len(lin) {
			t.Errorf("%s: %d rows, %d lineage rows", split, len(rows), len(lin))
		}
		for _, r := range rows {
			if r.Source != "huatuo" || r.Kind != "qa" || r.ID == "" || strings.Contains(r.Text, evalQuestion) {
				t.Errorf("row %+v", r)
			}
		}
		n += int64(len(rows))
		if m.Stages["echo"][split].Rows != int64(len(rows)) {
			t.Errorf("manifest counts %d echo/%s rows, file has %d", m.Stages["echo"][split].Rows, split, len(rows))
		}
	}
	if n != 29 { // 30 questions, one refused as an eval overlap
		t.Errorf("%d echo rows, want 29", n)
	}
	if m.LeakageCheck != "passed" {
		t.Errorf("leakage check %q", m.LeakageCheck)
	}
}
