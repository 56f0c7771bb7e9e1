package trainer

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // gomlx idiom
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Model is a trained (or freshly initialised) transformer with its
// tokenizer, ready to score and generate text. It satisfies evaluate.Model.
// Its methods are safe for concurrent use; calls run one at a time.
type Model struct {
	Info     RunInfo
	Tok      *Tokenizer
	Sampling SamplingConfig

	ctx   *context.Context
	batch int // rows per graph call; short calls are padded

	mu          sync.Mutex
	lpExec      *context.Exec // tokens, targets [B, T] → log p(target) [B, T]
	prefillExec *context.Exec // tokens [B, L], positions [B] → logits [B, vocab], then each layer's keys and values [B, L, heads, headDim]
	stepExec    *context.Exec // tokens [B, 1], positions [B], caches → logits, then each layer's new key and value
	noCache     bool          // generate without the key/value cache (tests compare the two)
	rng         *rand.Rand
}

// evalBatch is how many rows a scoring or generation call packs together.
const evalBatch = 8

func newModel(info RunInfo, tok *Tokenizer, ctx *context.Context, sampling SamplingConfig) (*Model, error) {
	backend, err := Backend()
	if err != nil {
		return nil, err
	}
	m := &Model{Info: info, Tok: tok, Sampling: sampling, ctx: ctx, batch: evalBatch,
		rng: rand.New(rand.NewPCG(info.Seed, 0x5eed))}
	a := info.Arch
	if m.lpExec, err = context.NewExec(backend, ctx, func(ctx *context.Context, tokens, targets *Node) *Node {
		return tokenLogProbs(ctx, a, tokens, targets)
	}); err != nil {
		return nil, err
	}
	if m.prefillExec, err = context.NewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
		return prefill(ctx, a, in[0], in[1])
	}); err != nil {
		return nil, err
	}
	if m.stepExec, err = context.NewExec(backend, ctx, func(ctx *context.Context, in []*Node) []*Node {
		lg, kv := decodeStep(ctx, a, in[0], in[1], in[2:])
		return append([]*Node{lg}, kv...)
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadModel loads the latest checkpoint of a finished run folder
// (runs/<stage>/) with its tokenizer; a run that did not reach its last step
// is an ErrUnfinished error, never a half-trained model. It decodes greedily; set Sampling to change that.
func LoadModel(runDir string) (*Model, error) {
	if err := checkDone(runDir); err != nil {
		return nil, err
	}
	info, err := readRunInfo(runDir)
	if err != nil {
		return nil, err
	}
	tok, err := LoadTokenizer(filepath.Join(runDir, TokenizerFile))
	if err != nil {
		return nil, err
	}
	latest, err := latestCheckpoint(runDir)
	if err != nil {
		return nil, err
	}
	if latest == "" {
		return nil, fmt.Errorf("%s has no checkpoint yet", runDir)
	}
	ctx := newContext(info.Seed)
	if err := loadWeights(ctx, latest); err != nil {
		return nil, err
	}
	return newModel(*info, tok, ctx, SamplingConfig{MaxTokens: 64})
}

// InitModel is the untrained model DCPT starts from — same architecture,
// tokenizer and seed — for the "init" row of evaluation. It uses the DCPT
// run's tokenizer when there is one, else builds it from stages/dcpt/train.
func InitModel(ws workspace.Dir, cfg Config) (*Model, error) {
	cfg = cfg.WithDefaults()
	tok, _, err := StageTokenizer(ws, cfg)
	if err != nil {
		return nil, err
	}
	info := RunInfo{Stage: "init", Preset: cfg.Preset, Seed: cfg.Seed, Arch: archFor(cfg.Preset, tok.Size())}
	if ri, err := readRunInfo(ws.Runs(schemas.StageDCPT)); err == nil {
		info.Arch, info.Preset, info.Seed = ri.Arch, ri.Preset, ri.Seed
	}
	return newModel(info, tok, newContext(info.Seed), cfg.Generate)
}

// StageTokenizer is the tokenizer training uses: the DCPT run's
// tokenizer.json when there is one, else the one a new DCPT run would build
// from stages/dcpt/train with cfg (the same texts and settings give the
// same vocabulary). From says which, for reports that count tokens.
func StageTokenizer(ws workspace.Dir, cfg Config) (tok *Tokenizer, from string, err error) {
	cfg = cfg.WithDefaults()
	saved := filepath.Join(ws.Runs(schemas.StageDCPT), TokenizerFile)
	if tok, err = LoadTokenizer(saved); err == nil {
		return tok, "runs/dcpt/" + TokenizerFile, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	tok, err = BuildTokenizer(readDCPTTexts(ws.StageFile(schemas.StageDCPT, "train")), cfg.MinCharFreq, presets[cfg.Preset].arch.Vocab)
	if err != nil {
		return nil, "", err
	}
	return tok, fmt.Sprintf("built from stages/dcpt/train as `chimed train` would (preset %s, min_char_freq %d)", cfg.Preset, cfg.MinCharFreq), nil
}

// ChatPrompt renders system/user (and earlier assistant) turns in the chat
// template SFT trained on, ending where the assistant's answer starts.
func (m *Model) ChatPrompt(messages []schemas.Turn) string { return ChatPrompt(messages) }

// NLL is, for each text, the summed negative log-likelihood (nats) of its
// tokens after the first, and how many tokens were predicted. Texts longer
// than the context are scored in consecutive windows.
func (m *Model) NLL(texts []string) (nll []float64, tokens []int, err error) {
	T := m.Info.Arch.Context
	var seqs []sequence
	var owner []int
	for i, s := range texts {
		ids := m.Tok.Encode(s)
		for start := 0; start+1 < len(ids); start += T {
			seqs = append(seqs, newSequence(T, ids[start:min(start+T+1, len(ids))], nil))
			owner = append(owner, i)
		}
	}
	sums, counts, err := m.sumLogProbs(seqs)
	if err != nil {
		return nil, nil, err
	}
	nll, tokens = make([]float64, len(texts)), make([]int, len(texts))
	for j, i := range owner {
		nll[i] -= sums[j]
		tokens[i] += counts[j]
	}
	return nll, tokens, nil
}

// ContinuationLogProb is, for each pair, log p(continuation | prompt) summed
// over the continuation's tokens, and how many there were. A prompt too long
// for the context loses its beginning; a continuation longer than half the
// context is cut (and counted) short.
func (m *Model) ContinuationLogProb(prompts, continuations []string) (logp []float64, tokens []int, err error) {
	if len(prompts) != len(continuations) {
		return nil, nil, fmt.Errorf("ContinuationLogProb: %d prompts but %d continuations", len(prompts), len(continuations))
	}
	T := m.Info.Arch.Context
	seqs := make([]sequence, len(prompts))
	for i := range prompts {
		ids, learn := fitPromptResponse(T, m.Tok.Encode(prompts[i]), m.Tok.Encode(continuations[i]))
		seqs[i] = newSequence(T, ids, learn)
	}
	return m.sumLogProbs(seqs)
}

// pairLogProbs scores DPO pairs: the summed response log-probs of (chosen,
// rejected).
func (m *Model) pairLogProbs(pairs []preferencePair) ([][2]float32, error) {
	seqs := make([]sequence, 0, 2*len(pairs))
	for _, p := range pairs {
		seqs = append(seqs, p.chosen, p.rejected)
	}
	sums, _, err := m.sumLogProbs(seqs)
	if err != nil {
		return nil, err
	}
	out := make([][2]float32, len(pairs))
	for i := range out {
		out[i] = [2]float32{float32(sums[2*i]), float32(sums[2*i+1])}
	}
	return out, nil
}

// sumLogProbs is Σ weight·log p(target) and Σ weight per sequence.
func (m *Model) sumLogProbs(seqs []sequence) (sums []float64, counts []int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	T := m.Info.Arch.Context
	sums, counts = make([]float64, len(seqs)), make([]int, len(seqs))
	for start := 0; start < len(seqs); start += m.batch {
		group := slices.Clone(seqs[start:min(start+m.batch, len(seqs))])
		for len(group) < m.batch {
			group = append(group, newSequence(T, nil, nil))
		}
		tok, tgt, _ := batchTensors(group)
		out, err := m.lpExec.Exec(tok, tgt)
		if err != nil {
			return nil, nil, err
		}
		lp := tensors.MustCopyFlatData[float32](out[0])
		for r := 0; r < m.batch && start+r < len(seqs); r++ {
			s := seqs[start+r]
			for t := range T {
				if s.weights[t] > 0 {
					sums[start+r] += float64(lp[r*T+t]) * float64(s.weights[t])
					counts[start+r]++
				}
			}
		}
	}
	return sums, counts, nil
}

// Generate continues each prompt with up to maxTokens tokens, stopping at
// the end of the turn, and returns the continuations without the stop
// marker, as valid UTF-8. Decoding is greedy unless m.Sampling asks for top-k / top-p.
//
// The first token runs the decoder on the prompts and keeps every layer's
// keys and values; each later one runs it on the new token alone against
// that cache (decodeStep), which gives the logits the whole window would.
// Once a row outgrows the context, the window slides, every position
// moves, and the rest of its batch reruns the decoder on the window per
// token, as it did before there was a cache.
func (m *Model) Generate(prompts []string, maxTokens int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(prompts))
	for start := 0; start < len(prompts); start += m.batch {
		n := min(m.batch, len(prompts)-start)
		ids := make([][]int32, n)
		for i := range n {
			ids[i] = m.Tok.Encode(prompts[start+i])
			if len(ids[i]) == 0 {
				ids[i] = []int32{EOSID}
			}
		}
		gen, err := m.generateBatch(ids, maxTokens)
		if err != nil {
			return nil, err
		}
		for i := range n {
			// A sampled byte token can leave a character half-spelled;
			// callers get valid UTF-8.
			out[start+i] = strings.ToValidUTF8(m.Tok.Decode(gen[i]), "")
		}
	}
	return out, nil
}

// generateBatch continues up to m.batch token rows and returns what each
// row generated.
func (m *Model) generateBatch(ids [][]int32, maxTokens int) ([][]int32, error) {
	n, T := len(ids), m.Info.Arch.Context
	gen := make([][]int32, n)
	done := make([]bool, n)
	var cache *kvCache
	cached := !m.noCache
	for step := 0; step < maxTokens; step++ {
		for i := range n {
			cached = cached && (done[i] || len(ids[i]) <= T)
		}
		var lg []float32
		var err error
		switch {
		case cached && cache != nil:
			lg, err = cache.step(m, ids)
		case cached:
			lg, cache, err = m.prefill(ids, done)
		default:
			lg, err = m.windowLogits(ids, done)
		}
		if err != nil {
			return nil, err
		}
		V := len(lg) / m.batch
		active := false
		for i := range n {
			if done[i] {
				continue
			}
			next := m.pick(lg[i*V : i*V+min(V, m.Tok.Size())])
			if next == EndID || next == EOSID || next == PadID {
				done[i] = true
				continue
			}
			ids[i] = append(ids[i], next)
			gen[i] = append(gen[i], next)
			active = true
		}
		if !active {
			break
		}
	}
	return gen, nil
}

// window lays the rows out as the uncached decoder reads them: each row's
// last L tokens from the left of a [batch, L] block, L a power of two (so
// only a few graphs compile) that holds every unfinished row up to the
// context, and the position of each row's last token.
func (m *Model) window(ids [][]int32, done []bool) (tok, pos []int32, L int) {
	T := m.Info.Arch.Context
	L = 16
	for i := range ids {
		for !done[i] && L < min(len(ids[i]), T) {
			L *= 2
		}
	}
	L = min(L, T)
	tok = make([]int32, m.batch*L)
	pos = make([]int32, m.batch)
	for i := range ids {
		w := ids[i][max(0, len(ids[i])-L):]
		copy(tok[i*L:], w)
		pos[i] = int32(len(w) - 1)
	}
	return tok, pos, L
}

// windowLogits runs the decoder on each row's window and returns the
// next-token logits [batch, vocab]. It runs prefill's graph, whose keys
// and values it drops, so the two paths share their compiled graphs.
func (m *Model) windowLogits(ids [][]int32, done []bool) ([]float32, error) {
	tok, pos, L := m.window(ids, done)
	res, err := m.prefillExec.Exec(tensors.FromFlatDataAndDimensions(tok, m.batch, L), tensors.FromFlatDataAndDimensions(pos, m.batch))
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](res[0]), nil
}

// kvCache holds, per layer, the keys and values of every row's positions so
// far: [batch, context, heads, headDim] each, flat.
type kvCache struct {
	kv         [][]float32 // layer l's keys at 2l, values at 2l+1
	batch, T   int
	posFloats  int // floats per position: heads × headDim
	emptyToken int32
}

// prefill runs the decoder on the prompts (every row fits the context) and
// returns the next-token logits and the cache of their keys and values.
func (m *Model) prefill(ids [][]int32, done []bool) ([]float32, *kvCache, error) {
	tok, pos, L := m.window(ids, done)
	res, err := m.prefillExec.Exec(tensors.FromFlatDataAndDimensions(tok, m.batch, L), tensors.FromFlatDataAndDimensions(pos, m.batch))
	if err != nil {
		return nil, nil, err
	}
	a := m.Info.Arch
	c := &kvCache{batch: m.batch, T: a.Context, posFloats: a.Dim, emptyToken: PadID}
	for _, t := range res[1:] {
		src := tensors.MustCopyFlatData[float32](t) // [batch, L, heads, headDim]
		dst := make([]float32, c.batch*c.T*c.posFloats)
		for b := range c.batch {
			copy(dst[b*c.T*c.posFloats:], src[b*L*c.posFloats:(b+1)*L*c.posFloats])
		}
		c.kv = append(c.kv, dst)
	}
	return tensors.MustCopyFlatData[float32](res[0]), c, nil
}

// step runs the decoder on each row's last token against the cache, writes
// that token's keys and values in, and returns the next-token logits.
// Every row has at most the context's length; a finished row is run at its
// last position again, which changes nothing it reads.
func (c *kvCache) step(m *Model, ids [][]int32) ([]float32, error) {
	tok := make([]int32, c.batch)
	pos := make([]int32, c.batch)
	for i := range tok {
		tok[i] = c.emptyToken
	}
	for i, row := range ids {
		tok[i], pos[i] = row[len(row)-1], int32(len(row)-1)
	}
	a := m.Info.Arch
	args := []any{tensors.FromFlatDataAndDimensions(tok, c.batch, 1), tensors.FromFlatDataAndDimensions(pos, c.batch)}
	for _, kv := range c.kv {
		args = append(args, tensors.FromFlatDataAndDimensions(kv, c.batch, c.T, a.Heads, a.Dim/a.Heads))
	}
	res, err := m.stepExec.Exec(args...)
	if err != nil {
		return nil, err
	}
	for l, t := range res[1:] {
		fresh := tensors.MustCopyFlatData[float32](t) // [batch, 1, heads, headDim]
		for b := range c.batch {
			copy(c.kv[l][(b*c.T+int(pos[b]))*c.posFloats:], fresh[b*c.posFloats:(b+1)*c.posFloats])
		}
	}
	return tensors.MustCopyFlatData[float32](res[0]), nil
}

// pick chooses the next id from logits: greedy, or a draw from the top-k
// and top-p (nucleus) candidates at the configured temperature.
func (m *Model) pick(logits []float32) int32 {
	s := m.Sampling
	if s.Temperature == 0 || (s.TopK == 0 && s.TopP == 0) {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return int32(best)
	}
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	if s.TopK > 0 && s.TopK < len(idx) {
		idx = idx[:s.TopK]
	}
	p := make([]float64, len(idx))
	top := float64(logits[idx[0]])
	var total float64
	for i, k := range idx {
		p[i] = math.Exp((float64(logits[k]) - top) / s.Temperature)
		total += p[i]
	}
	if s.TopP > 0 {
		var cum float64
		for i := range p {
			cum += p[i] / total
			if cum >= s.TopP {
				p, idx = p[:i+1], idx[:i+1]
				break
			}
		}
		total = 0
		for _, v := range p {
			total += v
		}
	}
	u := m.rng.Float64() * total
	for i, v := range p {
		if u -= v; u < 0 {
			return int32(idx[i])
		}
	}
	return int32(idx[len(idx)-1])
}
