package clean

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// TestHostileSourceColumn: clean and removed/ name files after the rows'
// source, so a normalized/ row whose source is not a source of chimed.yaml
// is an error naming the file and row, and nothing is written outside the
// workspace's own folders — whatever the value (a path, an absolute path,
// empty, a NUL, or a real source's name with a separator).
func TestHostileSourceColumn(t *testing.T) {
	for _, src := range []string{"../x", "../../../x/PWNED", "/abs", "a/b", "", "web\x00", "."} {
		t.Run(strings.ReplaceAll(src, "/", "_"), func(t *testing.T) {
			root := t.TempDir()
			ws := workspace.Dir(filepath.Join(root, "a", "b", "ws"))
			rows := []schemas.QA{
				qa("web", 0, "高血压患者平时饮食需要注意什么？", longAnswer),
				qa("web", 1, "高血压患者平时饮食需要注意什么？", longAnswer), // a duplicate: a removed/ row
				qa(src, 2, "糖尿病人可以吃西瓜吗？", longAnswer+"可以少量。"),
				qa(src, 3, "糖尿病人可以吃西瓜吗？", longAnswer+"可以少量。"),
			}
			writeNormalized(t, ws, schemas.KindQA, "web", rows)
			_, err := Run(context.Background(), Options{Workspace: ws, Sources: []Source{{Name: "web"}}})
			if err == nil {
				t.Fatal("clean accepted a row whose source is not in chimed.yaml")
			}
			file := ws.Path("normalized", "qa", "web-00000.parquet")
			for _, want := range []string{file + ": row 2", "is not a source in chimed.yaml"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			// Only the workspace holds files, and only under its own folders.
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(string(ws), p)
				if strings.HasPrefix(rel, "..") {
					t.Errorf("clean wrote %s, outside the workspace", p)
				}
				return nil
			})
			for _, dir := range []string{ws.Clean(schemas.KindQA), ws.Removed()} {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if !strings.HasPrefix(e.Name(), "web-") {
						t.Errorf("%s holds %s", dir, e.Name())
					}
				}
			}
		})
	}
}

// TestHostileSourceName: a source name that could not be a file name is
// refused before anything is written.
func TestHostileSourceName(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	for _, name := range []string{"../x", "/abs", "a/b", "", "a\x00"} {
		if _, err := Run(context.Background(), Options{Workspace: ws, Sources: []Source{{Name: name}}}); err == nil {
			t.Errorf("clean accepted source name %q", name)
		}
	}
}
