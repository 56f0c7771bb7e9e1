package trainer

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // gomlx idiom
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
)

// modelScope holds the transformer's weights; optimizer and metric state
// live elsewhere in the context, so a later stage can start from the weights
// alone.
const modelScope = "model"

// newContext is an empty context whose variables initialise from seed.
func newContext(seed uint64) *context.Context {
	ctx := context.New()
	ctx.SetParam(initializers.ParamInitialSeed, int64(seed))
	return ctx
}

// hidden runs the decoder on tokens [batch, T] (T ≤ arch.Context) and returns
// the final normalised states [batch, T, dim]. It is a plain function of the
// context: weights are created on first use and reused after.
func hidden(ctx *context.Context, a Arch, tokens *Node) *Node {
	return decoder(ctx, a, tokens, nil)
}

// decoder is hidden, also handing each layer's keys and values
// [batch, T, heads, headDim] to keep when it is not nil (generation's
// cache starts from them).
func decoder(ctx *context.Context, a Arch, tokens *Node, keep func(layer int, k, v *Node)) *Node {
	ctx = modelContext(ctx)
	g := tokens.Graph()
	batch, T := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	f32 := dtypes.Float32

	embed := ctx.VariableWithShape("embed", shapes.Make(f32, a.Vocab, a.Dim)).ValueGraph(g)
	pos := ctx.VariableWithShape("pos", shapes.Make(f32, a.Context, a.Dim)).ValueGraph(g)
	x := Gather(embed, Reshape(tokens, batch, T, 1))
	// Positions are gathered, not sliced: simplego has no Pad, so the
	// gradient of Slice would panic.
	x = Add(x, ExpandAxes(Gather(pos, Iota(g, shapes.Make(dtypes.Int32, T, 1), 0)), 0))

	// Additive causal mask [1, 1, T, T]: 0 where key ≤ query, else -1e9.
	rows := Iota(g, shapes.Make(dtypes.Int32, T, T), 0)
	cols := Iota(g, shapes.Make(dtypes.Int32, T, T), 1)
	mask := Where(GreaterOrEqual(rows, cols), Zeros(g, shapes.Make(f32, T, T)), Ones(g, shapes.Make(f32, T, T)))
	mask = Reshape(MulScalar(mask, -1e9), 1, 1, T, T)

	for l := range a.Layers {
		x = layer(ctx.Inf("layer_%d", l), a, x, func(k, v *Node) (*Node, *Node, *Node) {
			if keep != nil {
				keep(l, k, v)
			}
			return k, v, mask
		})
	}
	return rmsNorm(ctx.In("final_norm"), x)
}

// modelContext is the scope of the model's weights, with their initialiser.
func modelContext(ctx *context.Context) *context.Context {
	return ctx.In(modelScope).Checked(false).WithInitializer(initializers.RandomNormalFn(ctx, 0.02))
}

// layer is one decoder layer on x [batch, Tq, dim]: pre-norm causal
// self-attention, then a pre-norm feed-forward, each added to x. attend
// turns the layer's own keys and values [batch, Tq, heads, headDim] into
// those the queries see ([batch, Tk, heads, headDim]) and the additive mask
// of the scores [batch or 1, 1, Tq, Tk]: in training the same ones and the
// causal mask, in cached generation the cache with them written in.
func layer(lc *context.Context, a Arch, x *Node, attend func(k, v *Node) (keys, values, mask *Node)) *Node {
	batch, T := x.Shape().Dimensions[0], x.Shape().Dimensions[1]
	headDim := a.Dim / a.Heads
	h := rmsNorm(lc.In("attn_norm"), x)
	q := Reshape(dense(lc.In("q"), h, a.Dim), batch, T, a.Heads, headDim)
	k := Reshape(dense(lc.In("k"), h, a.Dim), batch, T, a.Heads, headDim)
	v := Reshape(dense(lc.In("v"), h, a.Dim), batch, T, a.Heads, headDim)
	keys, values, mask := attend(k, v)
	// scores [batch, heads, Tq, Tk]
	scores := dotGeneral(q, []int{3}, []int{0, 2}, keys, []int{3}, []int{0, 2})
	scores = Add(MulScalar(scores, 1/math.Sqrt(float64(headDim))), mask)
	p := Softmax(scores, -1)
	// out [batch, heads, Tq, headDim] → [batch, Tq, dim]
	out := dotGeneral(p, []int{3}, []int{0, 1}, values, []int{1}, []int{0, 2})
	out = Reshape(TransposeAllAxes(out, 0, 2, 1, 3), batch, T, a.Dim)
	x = Add(x, dense(lc.In("o"), out, a.Dim))

	h = rmsNorm(lc.In("ff_norm"), x)
	h = dense(lc.In("up"), h, a.FF)
	h = Mul(h, Sigmoid(MulScalar(h, 1.702))) // GELU, sigmoid approximation
	return Add(x, dense(lc.In("down"), h, a.Dim))
}

// decodeStep runs the decoder on one new token per row, tokens [batch, 1]
// at positions [batch], against the keys and values of the positions
// before it (caches: per layer a key and a value tensor [batch,
// arch.Context, heads, headDim], of which positions ≥ a row's position are
// ignored). It returns the next-token logits [batch, vocab] and, per layer,
// the new token's key and value [batch, 1, heads, headDim] for the caller
// to write into its cache. The keys the queries see are the cache with the
// new key written at its position, in the order the full decoder has them,
// so the sums run in the same order and masked positions add exact zeros.
func decodeStep(ctx *context.Context, a Arch, tokens, positions *Node, caches []*Node) (lg *Node, newKV []*Node) {
	mctx := modelContext(ctx)
	g := tokens.Graph()
	batch, T := tokens.Shape().Dimensions[0], a.Context
	f32 := dtypes.Float32
	headDim := a.Dim / a.Heads

	embed := mctx.VariableWithShape("embed", shapes.Make(f32, a.Vocab, a.Dim)).ValueGraph(g)
	pos := mctx.VariableWithShape("pos", shapes.Make(f32, a.Context, a.Dim)).ValueGraph(g)
	x := Gather(embed, Reshape(tokens, batch, 1, 1))
	x = Add(x, Reshape(Gather(pos, Reshape(positions, batch, 1)), batch, 1, a.Dim))

	// [batch, T]: the key position of each slot against the row's position
	slots := Iota(g, shapes.Make(dtypes.Int32, batch, T), 1)
	at := ExpandAxes(positions, -1)
	mask := Where(LessOrEqual(slots, at), Zeros(g, shapes.Make(f32, batch, T)), Ones(g, shapes.Make(f32, batch, T)))
	mask = Reshape(MulScalar(mask, -1e9), batch, 1, 1, T)
	write := BroadcastToDims(Reshape(Equal(slots, at), batch, T, 1, 1), batch, T, a.Heads, headDim)

	for l := range a.Layers {
		x = layer(mctx.Inf("layer_%d", l), a, x, func(k, v *Node) (*Node, *Node, *Node) {
			newKV = append(newKV, k, v)
			keys := Where(write, BroadcastToDims(k, batch, T, a.Heads, headDim), caches[2*l])
			values := Where(write, BroadcastToDims(v, batch, T, a.Heads, headDim), caches[2*l+1])
			return keys, values, mask
		})
	}
	h := rmsNorm(mctx.In("final_norm"), x)
	return logits(ctx, a, Reshape(h, batch, a.Dim)), newKV
}

// logits projects states [..., dim] to next-token logits [..., vocab].
func logits(ctx *context.Context, a Arch, h *Node) *Node {
	ctx = modelContext(ctx)
	// No bias: on simplego a vocabulary bias costs a [batch, T, vocab]
	// broadcast forward and a reduction of the same size backward, for a
	// term the final norm's scale and the last layer already provide (the
	// LLaMA models have none either).
	c := ctx.In("out")
	w := c.VariableWithShape("w", shapes.Make(h.DType(), h.Shape().Dimensions[h.Rank()-1], a.Vocab)).ValueGraph(h.Graph())
	return dotGeneral(h, []int{h.Rank() - 1}, nil, w, []int{0}, nil)
}

// dense is x·W + b over x's last axis, with the memory-lean matmul gradient.
func dense(ctx *context.Context, x *Node, out int) *Node {
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := ctx.VariableWithShape("w", shapes.Make(x.DType(), in, out)).ValueGraph(g)
	b := ctx.WithInitializer(initializers.Zero).VariableWithShape("b", shapes.Make(x.DType(), out)).ValueGraph(g)
	y := dotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
	return Add(y, ExpandLeftToRank(b, y.Rank()))
}

// rmsNorm normalises the last axis to unit root-mean-square, times a learned
// scale.
func rmsNorm(ctx *context.Context, x *Node) *Node {
	d := x.Shape().Dimensions[x.Rank()-1]
	scale := ctx.WithInitializer(initializers.One).VariableWithShape("scale", shapes.Make(x.DType(), d)).ValueGraph(x.Graph())
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	return Mul(Div(x, Sqrt(AddScalar(ms, 1e-6))), ExpandLeftToRank(scale, x.Rank()))
}

// tokenLogProbs is log p(target) at every position: [batch, T]. It is the
// target's logit minus the log-sum-exp of the row, with the target's logit
// gathered: on simplego, LogSoftmax times a one-hot [batch, T, vocab] mask
// cost a fifth of a `ref` training step in broadcasts and reductions over
// the vocabulary.
func tokenLogProbs(ctx *context.Context, a Arch, tokens, targets *Node) *Node {
	lg := logits(ctx, a, hidden(ctx, a, tokens))
	g := lg.Graph()
	batch, T := targets.Shape().Dimensions[0], targets.Shape().Dimensions[1]
	at := shapes.Make(dtypes.Int32, batch, T, 1)
	idx := Concatenate([]*Node{Iota(g, at, 0), Iota(g, at, 1), Reshape(ConvertDType(targets, dtypes.Int32), batch, T, 1)}, -1)
	picked := Gather(lg, idx) // [batch, T]
	top := StopGradient(ReduceMax(lg, -1))
	lse := Add(Log(ReduceSum(Exp(Sub(lg, ExpandAxes(top, -1))), -1)), top)
	return Sub(picked, lse)
}

// maskedMeanNLL is the mean negative log-likelihood of the weighted
// positions: the causal LM loss (all weights 1 but padding) and the SFT
// loss (weights only on assistant tokens).
func maskedMeanNLL(tlp, weights *Node) *Node {
	total := ReduceAllSum(Mul(tlp, weights))
	count := Max(ReduceAllSum(weights), ScalarOne(weights.Graph(), weights.DType()))
	return Neg(Div(total, count))
}

// prefill is the next-token logits of tokens [batch, T] at one position
// per row, positions [batch] → [batch, vocab], followed by every layer's
// keys and values [batch, T, heads, headDim]: the start of a generation's
// cache. Only the picked rows are projected to the vocabulary.
func prefill(ctx *context.Context, a Arch, tokens, positions *Node) []*Node {
	var kv []*Node
	h := decoder(ctx, a, tokens, func(_ int, k, v *Node) { kv = append(kv, k, v) })
	return append([]*Node{logitsAt(ctx, a, h, positions)}, kv...)
}

// logitsAt projects the states h [batch, T, dim] at one position per row.
func logitsAt(ctx *context.Context, a Arch, h, positions *Node) *Node {
	T := h.Shape().Dimensions[1]
	pick := OneHot(positions, T, h.DType()) // [batch, T]
	hp := DotGeneral(pick, []int{1}, []int{0}, h, []int{1}, []int{0})
	return logits(ctx, a, hp)
}
