package trainer

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string // substring of the error, "" for none
	}{
		{"zero", Config{}, ""},
		{"ref", Config{Preset: "ref"}, ""},
		{"unknown preset", Config{Preset: "huge"}, "preset"},
		{"negative steps", Config{SFT: StageConfig{Steps: -1}}, "sft"},
		{"negative beta", Config{DPO: DPOConfig{Beta: -0.1}}, "dpo.beta"},
		{"top_p above 1", Config{Generate: SamplingConfig{TopP: 1.5}}, "generate.top_p"},
		{"negative temperature", Config{Negatives: NegativesConfig{Sampling: SamplingConfig{Temperature: -1}}}, "dpo_negatives.sampling.temperature"},
		{"negative log_every", Config{LogEvery: -5}, "log_every"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{Preset: "tiny", DCPT: StageConfig{Steps: 5}}.WithDefaults()
	if c.DCPT.Steps != 5 || c.DCPT.Batch != presets["tiny"].stages["dcpt"].Batch || c.DPO.Beta == 0 || c.Seed == 0 {
		t.Errorf("defaults not filled around explicit values: %+v", c)
	}
	if a := archFor("ref", 1500); a.Vocab != 6000 {
		t.Errorf("ref vocab %d, want the fixed 6000", a.Vocab)
	}
	if a := archFor("small", 1500); a.Vocab != 1500 {
		t.Errorf("small vocab %d, want the tokenizer's 1500", a.Vocab)
	}
}

func TestEpochSteps(t *testing.T) {
	for _, c := range []struct {
		epochs    float64
		n, batch  int
		wantSteps int
	}{
		{3, 1000, 16, 188}, // 3000/16 = 187.5, rounded up
		{1, 16, 16, 1},
		{0.5, 10, 4, 2},
		{3, 0, 16, 1}, // at least one step
		{2, 5, 0, 10}, // a zero batch counts as one
	} {
		if got := epochSteps(c.epochs, c.n, c.batch); got != c.wantSteps {
			t.Errorf("epochSteps(%v, %d, %d) = %d, want %d", c.epochs, c.n, c.batch, got, c.wantSteps)
		}
	}
	// A preset's epochs survive WithDefaults unless the user set steps.
	c := Config{Preset: "small"}.WithDefaults()
	if c.DCPT.Steps != 0 || c.DCPT.Epochs != 3 {
		t.Errorf("small dcpt: steps %d epochs %v", c.DCPT.Steps, c.DCPT.Epochs)
	}
	c = Config{Preset: "small", DCPT: StageConfig{Steps: 40}}.WithDefaults()
	if c.DCPT.Steps != 40 || c.DCPT.Epochs != 0 {
		t.Errorf("explicit steps: steps %d epochs %v", c.DCPT.Steps, c.DCPT.Epochs)
	}
}
