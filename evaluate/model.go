package evaluate

import "github.com/chimed/chimed/schemas"

// Model is what evaluation needs from a language model. The trainer's model
// satisfies it; tests use a small character bigram model.
type Model interface {
	// NLL returns the summed negative log-likelihood (nats) of each text's
	// tokens after the first, and how many tokens were predicted.
	NLL(texts []string) (nll []float64, tokens []int, err error)
	// ContinuationLogProb returns sum log p(continuation | prompt) for each
	// pair, and how many continuation tokens were scored.
	ContinuationLogProb(prompts, continuations []string) (logp []float64, tokens []int, err error)
	// Generate continues each prompt greedily, stopping at end-of-turn or
	// after maxTokens tokens.
	Generate(prompts []string, maxTokens int) ([]string, error)
	// ChatPrompt renders system/user turns and the start of the assistant's
	// turn the way SFT trained the model.
	ChatPrompt(messages []schemas.Turn) string
}
