package trainer

import (
	"math"
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
		{"cosine", Config{SFT: StageConfig{Schedule: ScheduleCosine}}, ""},
		{"unknown schedule", Config{DCPT: StageConfig{Schedule: "linear"}}, "dcpt.schedule"},
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
	if c.DCPT.Schedule != ScheduleConstant || c.SFT.Schedule != ScheduleConstant {
		t.Errorf("tiny schedules %q, %q, want constant", c.DCPT.Schedule, c.SFT.Schedule)
	}
	if s := (Config{}).WithDefaults(); s.DCPT.Schedule != ScheduleCosine || s.SFT.Schedule != ScheduleConstant {
		t.Errorf("small schedules %q, %q, want cosine DCPT and constant SFT", s.DCPT.Schedule, s.SFT.Schedule)
	}
	if s := (Config{DCPT: StageConfig{Schedule: ScheduleConstant}}).WithDefaults(); s.DCPT.Schedule != ScheduleConstant {
		t.Errorf("an explicit constant schedule became %q", s.DCPT.Schedule)
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

// TestLRAt checks the learning rate metrics.jsonl reports against the
// cosine schedule gomlx applies: lr at the first step, halfway between lr
// and its floor at mid-run, the floor approached at the end.
func TestLRAt(t *testing.T) {
	cos := StageConfig{Steps: 100, LR: 2e-3, Schedule: ScheduleCosine}
	cases := []struct {
		name string
		s    StageConfig
		done int
		want float64
	}{
		{"constant", StageConfig{Steps: 100, LR: 1e-3, Schedule: ScheduleConstant}, 50, 1e-3},
		{"cosine start", cos, 0, 2e-3},
		{"cosine middle", cos, 50, (2e-3 + 1e-4) / 2},
		{"cosine end", cos, 100 - 1, 1e-4 + (2e-3-1e-4)*(1+math.Cos(math.Pi*0.99))/2},
	}
	for _, c := range cases {
		if got := c.s.lrAt(c.done); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: lr after %d steps = %g, want %g", c.name, c.done, got, c.want)
		}
	}
}
