package trainer

import (
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// TestCachedGenerationMatchesWindow generates with the key/value cache and
// without it (the decoder rerun on the window per token) and wants the
// same text: on the untrained and the DCPT-trained tiny model, greedy and
// sampled, for prompts short and long, empty, and ones whose generation
// outgrows the 48-token context (where the cached path hands over to the
// window), in batches of one and of more rows than a graph call takes.
func TestCachedGenerationMatchesWindow(t *testing.T) {
	ws := fixtureWorkspace(t)
	cfg := tinyConfig()
	if _, err := Train(ws, cfg, schemas.StageDCPT, Options{}); err != nil {
		t.Fatal(err)
	}
	var prompts []string
	for i := range 10 {
		q, _ := fixtureQA(i)
		prompts = append(prompts, ChatPrompt([]schemas.Turn{{Role: schemas.RoleUser, Content: q}}))
	}
	prompts = append(prompts, "", strings.Repeat(fixtureDCPT(1)[0].Text, 3)) // nothing; past the context
	load := map[string]func() (*Model, error){
		"init": func() (*Model, error) { return InitModel(ws, cfg) },
		"dcpt": func() (*Model, error) { return LoadModel(ws.Runs(schemas.StageDCPT)) },
	}
	samplings := map[string]SamplingConfig{
		"greedy":  {},
		"sampled": {Temperature: 0.9, TopK: 20, TopP: 0.95},
	}
	for name, newModel := range load {
		for sname, sampling := range samplings {
			for _, batch := range [][]string{prompts[:1], prompts} {
				var outs [2][]string
				for i, noCache := range []bool{false, true} {
					m, err := newModel()
					if err != nil {
						t.Fatal(err)
					}
					m.Sampling, m.noCache = sampling, noCache
					if outs[i], err = m.Generate(batch, 40); err != nil {
						t.Fatal(err)
					}
				}
				long := 0
				for j := range batch {
					if outs[0][j] != outs[1][j] {
						t.Errorf("%s %s, prompt %d: cached %q, window %q", name, sname, j, outs[0][j], outs[1][j])
					}
					if len([]rune(outs[0][j])) >= 30 {
						long++
					}
				}
				if len(batch) > 1 && long == 0 {
					t.Errorf("%s %s: no generation ran long enough to outgrow the context: %q", name, sname, outs[0])
				}
			}
		}
	}
}
