package stats

import (
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
)

// Files are the report files Run writes under reports/.
var Files = []string{"stats.json", "stats.md", "stats.html"}

// Run collects the report of workspace ws and writes reports/stats.json,
// reports/stats.md and reports/stats.html, each atomically.
func Run(ws workspace.Dir, opts Options) (*Report, error) {
	rep, err := Collect(ws, opts)
	if err != nil {
		return nil, err
	}
	js, err := rep.JSON()
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{
		"stats.json": js,
		"stats.md":   []byte(rep.Markdown()),
		"stats.html": []byte(rep.HTML()),
	} {
		if err := atomicfile.WriteFile(ws.Report(name), data); err != nil {
			return nil, err
		}
	}
	return rep, nil
}
