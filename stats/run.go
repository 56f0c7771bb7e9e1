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
	if err := atomicfile.WriteJSON(ws.Report("stats.json"), rep); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(ws.Report("stats.md"), []byte(rep.Markdown())); err != nil {
		return nil, err
	}
	return rep, atomicfile.WriteFile(ws.Report("stats.html"), []byte(rep.HTML()))
}
