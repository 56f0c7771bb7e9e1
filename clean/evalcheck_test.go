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

func TestReasonList(t *testing.T) {
	if got := reasonList(map[string]int64{"duplicate": 1, "too_short": 3, "pii": 0, "contaminated": 1}); got != "too_short 3, contaminated 1, duplicate 1" {
		t.Errorf("reasonList = %q", got)
	}
}
