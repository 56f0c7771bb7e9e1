package pipeline

import (
	"context"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/chimed/chimed/demo"
)

// Demo writes the self-made demo corpus, its chimed.yaml and
// demo-truth.json into the workspace, making the folder (demo.Generate).
func Demo(o demo.Options) Step {
	return Step{
		Name: "demo", Command: "demo", Mark: "chimed.yaml", MakesWorkspace: true,
		Outputs: []string{"chimed.yaml", "raw", "demo-truth.json"},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			o.Progress = func(source string, n int64) {
				env.Log.Debug("demo source written", "source", source, "bytes", n)
			}
			start := time.Now()
			truth, err := demo.Generate(string(env.Workspace), o)
			if err != nil {
				return nil, err
			}
			var records, broken, bytes int64
			for _, s := range truth.Sources {
				records += s.Records
				broken += s.Broken
				for _, f := range s.Files {
					bytes += f.Bytes
				}
			}
			env.Log.Info("demo workspace written", "dir", string(env.Workspace), "sources", len(truth.Sources), "records", records,
				"broken", broken, "planted", len(truth.Planted), "bytes", humanize.IBytes(uint64(bytes)),
				"took", time.Since(start).Round(time.Millisecond))
			return Counts{"sources": int64(len(truth.Sources)), "records": records, "broken": broken}, nil
		},
	}
}
