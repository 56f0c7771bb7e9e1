package clean

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// TestEvalLeftEmpty: an eval source with no row after clean fails the run,
// after clean.json is written, with what became of its rows.
func TestEvalLeftEmpty(t *testing.T) {
	train := []schemas.QA{qa("web", 0, "高血压患者平时饮食需要注意什么？", longAnswer)}
	tests := []struct {
		name string
		eval []schemas.QA // rows of the eval source "heldout"
		want string       // in the error; "" for none
	}{
		{"eval rows kept", []schemas.QA{qa("heldout", 0, "糖尿病患者平时饮食需要注意什么？", longAnswer)}, ""},
		{"no eval row reached clean", nil, "sources[heldout]: role eval, but no row of it reached clean"},
		{"every eval row removed", []schemas.QA{qa("heldout", 0, "头痛发热三天了，体温最高三十九度，请问需要吃什么药？", "好")},
			"sources[heldout]: role eval, but clean removed all 1 of its rows ("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			writeNormalized(t, ws, schemas.KindQA, "web", train)
			if tt.eval != nil {
				writeNormalized(t, ws, schemas.KindQA, "heldout", tt.eval)
			}
			rep, err := Run(context.Background(), Options{Workspace: ws,
				Sources: []Source{{Name: "web"}, {Name: "heldout", Eval: true}}})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if rep == nil {
				t.Error("no report with the error")
			}
			if _, serr := os.Stat(ws.Report("clean.json")); serr != nil {
				t.Errorf("clean.json not written: %v", serr)
			}
		})
	}
}

// TestEvalCopyIsHeldOut: an eval source whose rows all duplicate another
// eval source's (one test set shipped as CSV and as XLSX) is not an empty
// eval set: its questions are held out through the copies kept.
func TestEvalCopyIsHeldOut(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	q := qa("heldout", 0, "糖尿病患者平时饮食需要注意什么？", longAnswer)
	writeNormalized(t, ws, schemas.KindQA, "web", []schemas.QA{qa("web", 0, "高血压患者平时饮食需要注意什么？", longAnswer)})
	writeNormalized(t, ws, schemas.KindQA, "heldout", []schemas.QA{q})
	copyRow := qa("heldout-xlsx", 0, q.Question, q.Answer)
	writeNormalized(t, ws, schemas.KindQA, "heldout-xlsx", []schemas.QA{copyRow})
	rep, err := Run(context.Background(), Options{Workspace: ws,
		Sources: []Source{{Name: "web"}, {Name: "heldout", Eval: true}, {Name: "heldout-xlsx", Eval: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Sources["heldout-xlsx"]; c.Kept != 0 || c.Removed[ReasonDuplicate] != 1 {
		t.Fatalf("heldout-xlsx: %+v, want its one row removed as a duplicate", c)
	}
	// A copy of a training row is no such case: eval rows are deduplicated
	// only among themselves, so it stays.
	ws = workspace.Dir(t.TempDir())
	writeNormalized(t, ws, schemas.KindQA, "web", []schemas.QA{qa("web", 0, q.Question, q.Answer)})
	writeNormalized(t, ws, schemas.KindQA, "heldout", []schemas.QA{q})
	rep, err = Run(context.Background(), Options{Workspace: ws,
		Sources: []Source{{Name: "web"}, {Name: "heldout", Eval: true}}})
	if err != nil || rep.Sources["heldout"].Kept != 1 {
		t.Fatalf("eval row beside a training copy: %v, %+v", err, rep.Sources["heldout"])
	}
}

func TestReasonList(t *testing.T) {
	if got := reasonList(map[string]int64{"duplicate": 1, "too_short": 3, "pii": 0, "contaminated": 1}); got != "too_short 3, contaminated 1, duplicate 1" {
		t.Errorf("reasonList = %q", got)
	}
}
