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
	ctx = ctx.In(modelScope).Checked(false).WithInitializer(initializers.RandomNormalFn(ctx, 0.02))
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

	headDim := a.Dim / a.Heads
	for l := range a.Layers {
		lc := ctx.Inf("layer_%d", l)
		h := rmsNorm(lc.In("attn_norm"), x)
		q := Reshape(dense(lc.In("q"), h, a.Dim), batch, T, a.Heads, headDim)
		k := Reshape(dense(lc.In("k"), h, a.Dim), batch, T, a.Heads, headDim)
		v := Reshape(dense(lc.In("v"), h, a.Dim), batch, T, a.Heads, headDim)
		// scores [batch, heads, Tq, Tk]
		scores := dotGeneral(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2})
		scores = Add(MulScalar(scores, 1/math.Sqrt(float64(headDim))), mask)
		p := Softmax(scores, -1)
		// out [batch, heads, Tq, headDim] → [batch, T, dim]
		out := dotGeneral(p, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2})
		out = Reshape(TransposeAllAxes(out, 0, 2, 1, 3), batch, T, a.Dim)
		x = Add(x, dense(lc.In("o"), out, a.Dim))

		h = rmsNorm(lc.In("ff_norm"), x)
		h = dense(lc.In("up"), h, a.FF)
		h = Mul(h, Sigmoid(MulScalar(h, 1.702))) // GELU, sigmoid approximation
		x = Add(x, dense(lc.In("down"), h, a.Dim))
	}
	return rmsNorm(ctx.In("final_norm"), x)
}

// logits projects states [..., dim] to next-token logits [..., vocab].
func logits(ctx *context.Context, a Arch, h *Node) *Node {
	ctx = ctx.In(modelScope).Checked(false).WithInitializer(initializers.RandomNormalFn(ctx, 0.02))
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

// lastLogits is the logits at one position per row: states [batch, T, dim],
// positions [batch] → [batch, vocab]. Only that row is projected to the
// vocabulary, which is most of the cost saved in generation.
func lastLogits(ctx *context.Context, a Arch, tokens, positions *Node) *Node {
	h := hidden(ctx, a, tokens)
	T := tokens.Shape().Dimensions[1]
	pick := OneHot(positions, T, h.DType()) // [batch, T]
	hp := DotGeneral(pick, []int{1}, []int{0}, h, []int{1}, []int{0})
	return logits(ctx, a, hp)
}
