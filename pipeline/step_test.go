package pipeline

import (
	"strings"
	"testing"
)

func TestNoTrainedRow(t *testing.T) {
	all := []string{"init", "dcpt", "sft", "dpo"}
	tests := []struct {
		rows    []string
		skipped []string
		wantErr string
	}{
		{all, nil, ""},
		{all, []string{"sft", "dpo"}, ""}, // dcpt trained: the rest are warnings
		{all, []string{"dcpt", "sft", "dpo"}, "runs/dcpt, runs/sft, runs/dpo missing (run `chimed train` first"},
		{[]string{"init"}, nil, ""},
		{[]string{"init", "dpo"}, []string{"dpo"}, "runs/dpo missing"},
	}
	for _, tc := range tests {
		skipped := map[string]string{}
		for _, s := range tc.skipped {
			skipped[s] = "no run"
		}
		err := noTrainedRow(tc.rows, skipped)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("noTrainedRow(%v, %v) = %v, want %q", tc.rows, tc.skipped, err, tc.wantErr)
		}
	}
}

func TestCountsText(t *testing.T) {
	tests := []struct {
		in   map[string]int64
		want string
	}{
		{nil, "none"},
		{map[string]int64{"eval_overlap": 47}, "eval_overlap=47"},
		{map[string]int64{"too_short": 3, "eval_overlap": 47}, "eval_overlap=47 too_short=3"},
	}
	for _, tc := range tests {
		if got := countsText(tc.in); got != tc.want {
			t.Errorf("countsText(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
