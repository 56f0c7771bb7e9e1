package stages

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// TestEvalLeftEmpty: an eval source that puts no row into an eval set
// fails the build, after the manifest is written, saying why.
func TestEvalLeftEmpty(t *testing.T) {
	tests := []struct {
		name string
		eval string // an eval source besides the fixture's two
		want string
	}{
		{"every eval source fills a set", "", ""},
		// Clean removes an eval source only as exact copies of other eval
		// rows (it fails otherwise): the eval sets hold them.
		{"an eval source with no clean row beside filled eval sets", "ghost", ""},
		{"an eval source of a kind no set takes", "books", "sources[books]: role eval, but eval sets take exam, qa and dialogue sources, not text"},
		{"an eval source whose every row is turned down", "badexam", "sources[badexam]: role eval, but none of its 1 clean rows could go into an eval set (" + ReasonExamBadAnswer + " 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := fixture(t)
			write(t, filepath.Join(ws.Clean(schemas.KindExam), "part-00001.parquet"), []schemas.ExamQuestion{
				{ID: "b1", Source: "badexam", Question: "答案不在选项里的题", Answer: "E", Meta: "{}",
					Options: []schemas.Option{{Label: "A", Text: "甲"}, {Label: "B", Text: "乙"}}},
			})
			opts := options(ws, 1)
			if tt.eval != "" {
				opts.EvalSources[tt.eval] = true
			}
			m, err := Build(opts)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if m == nil {
				t.Error("no manifest with the error")
			}
			if _, serr := os.Stat(ManifestPath(ws)); serr != nil {
				t.Errorf("manifest not written: %v", serr)
			}
		})
	}
}
