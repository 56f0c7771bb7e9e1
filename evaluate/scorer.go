package evaluate

import (
	"fmt"

	"github.com/chimed/chimed/internal/progress"
)

// scorer sends a model's calls in batches of a fixed size, so memory stays
// bounded and a progress bar can move between them.
type scorer struct {
	m     Model
	batch int
	bar   *progress.Bar
}

func (s *scorer) chunks(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += s.batch {
		hi := min(lo+s.batch, n)
		if err := f(lo, hi); err != nil {
			return err
		}
		s.bar.Add(int64(hi - lo))
	}
	return nil
}

func (s *scorer) nll(texts []string) ([]float64, []int, error) {
	nll, tok := make([]float64, 0, len(texts)), make([]int, 0, len(texts))
	err := s.chunks(len(texts), func(lo, hi int) error {
		a, b, err := s.m.NLL(texts[lo:hi])
		if err != nil {
			return fmt.Errorf("NLL: %w", err)
		}
		if len(a) != hi-lo || len(b) != hi-lo {
			return fmt.Errorf("NLL: %d texts gave %d values and %d counts", hi-lo, len(a), len(b))
		}
		nll, tok = append(nll, a...), append(tok, b...)
		return nil
	})
	return nll, tok, err
}

func (s *scorer) logProb(prompts, conts []string) ([]float64, []int, error) {
	lp, tok := make([]float64, 0, len(prompts)), make([]int, 0, len(prompts))
	err := s.chunks(len(prompts), func(lo, hi int) error {
		a, b, err := s.m.ContinuationLogProb(prompts[lo:hi], conts[lo:hi])
		if err != nil {
			return fmt.Errorf("ContinuationLogProb: %w", err)
		}
		if len(a) != hi-lo || len(b) != hi-lo {
			return fmt.Errorf("ContinuationLogProb: %d pairs gave %d values and %d counts", hi-lo, len(a), len(b))
		}
		lp, tok = append(lp, a...), append(tok, b...)
		return nil
	})
	return lp, tok, err
}

func (s *scorer) generate(prompts []string, maxTokens int) ([]string, error) {
	out := make([]string, 0, len(prompts))
	err := s.chunks(len(prompts), func(lo, hi int) error {
		g, err := s.m.Generate(prompts[lo:hi], maxTokens)
		if err != nil {
			return fmt.Errorf("Generate: %w", err)
		}
		if len(g) != hi-lo {
			return fmt.Errorf("Generate: %d prompts gave %d texts", hi-lo, len(g))
		}
		out = append(out, g...)
		return nil
	})
	return out, err
}
