package config

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := "version: 1\nseed: 7\nsources:\n  - name: a\n    kind: qa\n    paths: [raw/a.jsonl]\n    preset: alpaca\n"
	cases := []struct {
		name    string
		yaml    string
		wantErr string // "" for success
	}{
		{"valid", good, ""},
		{"unknown top-level key names its line", good + "clen: {}\n", "clen"},
		{"unknown source key", strings.Replace(good, "preset:", "presett:", 1), "presett"},
		{"bad kind", strings.Replace(good, "kind: qa", "kind: faq", 1), "sources[a].kind"},
		{"no paths", strings.Replace(good, "    paths: [raw/a.jsonl]\n", "", 1), "sources[a].paths"},
		{"bad role", strings.Replace(good, "kind: qa", "kind: qa\n    role: test", 1), "sources[a].role"},
		{"name used twice", good + "  - name: a\n    kind: text\n    paths: [x]\n", "used twice"},
		{"unsupported version", strings.Replace(good, "version: 1", "version: 3", 1), "version"},
		{"bad mapping regexp names its key", strings.Replace(good, "preset: alpaca", "map:\n      fields: {question: q, answer: a}\n      steps: {question: [{strip: '('}]}", 1), "sources[a].map.steps.question[0].strip"},
		{"bad answer_is names its key", strings.Replace(good, "preset: alpaca", "map: {answer_is: letters}", 1), "sources[a].map.answer_is"},
		{"bad size", strings.Replace(good, "preset: alpaca", "max_record_bytes: lots", 1), "lots"},
		{"bad max_quarantine", strings.Replace(good, "preset: alpaca", "preset: alpaca\n    max_quarantine: 120%", 1), "120%"},
		{"a name that is a path", strings.Replace(good, "name: a", "name: ../../x", 1), `sources["../../x"].name`},
		{"an absolute name", strings.Replace(good, "name: a", "name: /abs", 1), `sources["/abs"].name`},
		{"a name with a separator", strings.Replace(good, "name: a", "name: a/b", 1), `sources["a/b"].name`},
		{"a name with a NUL", strings.Replace(good, "name: a", `name: "a\0"`, 1), `sources["a\x00"].name`},
		{"no sources", "version: 1\nseed: 7\n", "sources: none listed"},
		{"an empty source list", "version: 1\nseed: 7\nsources: []\n", "sources: none listed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("ws/chimed.yaml", []byte(c.yaml))
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Seed != 7 || len(cfg.Sources) != 1 || len(cfg.Hash) != 64 {
					t.Fatalf("decoded %+v", cfg)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted a bad config")
			}
			if !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "ws/chimed.yaml") {
				t.Errorf("error %q does not name %q and the file", err, c.wantErr)
			}
		})
	}
}

func TestEvalSources(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("sources:\n  - {name: e, kind: exam, role: eval, paths: [x]}\n  - {name: t, kind: qa, paths: [y]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.EvalSources(); !got["e"] || got["t"] || len(got) != 1 {
		t.Fatalf("EvalSources = %v", got)
	}
}

// TestValidationOrder: of two mistakes, the one reported is the same on
// every run (sections in file order, keys within a section in a fixed
// order), never whichever a map happened to yield first.
func TestValidationOrder(t *testing.T) {
	good := "version: 1\nsources:\n  - {name: a, kind: qa, paths: [x], preset: alpaca}\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"clean before train", good + "clean: {workers: -1}\ntrain: {log_every: -1}\n", "clean: clean.workers"},
		{"kg before stages and train", good + "kg: {renderings: -1}\ntrain: {dcpt: {steps: -1}}\n", "kg: renderings"},
		{"train counts in a fixed order", good + "train: {shuffle_buffer: -1, min_char_freq: -2, log_every: -3}\n", "train: min_char_freq"},
		{"train stages in a fixed order", good + "train: {dpo: {steps: -1}, sft: {lr: -1}, dcpt: {batch: -1}}\n", "train: dcpt:"},
		{"train sampling in a fixed order", good + "train: {dpo_negatives: {sampling: {top_p: 2}}, generate: {temperature: -1}}\n", "train: generate.temperature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var first string
			for i := range 50 {
				_, err := Parse("chimed.yaml", []byte(c.yaml))
				if err == nil {
					t.Fatal("accepted a bad config")
				}
				if i == 0 {
					first = err.Error()
					if !strings.Contains(first, c.want) {
						t.Fatalf("error %q does not name %q first", first, c.want)
					}
				} else if err.Error() != first {
					t.Fatalf("run %d reported %q, run 0 %q", i, err, first)
				}
			}
		})
	}
}
