package trainer

import (
	"fmt"
	"iter"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/chimed/chimed/schemas"
)

// sequence is one training row of T positions: input tokens, the next tokens
// as targets (shifted here, not in the graph: simplego cannot differentiate
// Slice), and a weight per position (0 for padding and, in SFT/DPO, for
// tokens the model is not taught to produce).
type sequence struct {
	tokens, targets []int32
	weights         []float32
}

// newSequence shifts ids (at most T+1 of them) into a T-position row;
// learn[i] says whether ids[i] is a target.
func newSequence(T int, ids []int32, learn []bool) sequence {
	s := sequence{tokens: make([]int32, T), targets: make([]int32, T), weights: make([]float32, T)}
	for i := 0; i+1 < len(ids) && i < T; i++ {
		s.tokens[i], s.targets[i] = ids[i], ids[i+1]
		if learn == nil || learn[i+1] {
			s.weights[i] = 1
		}
	}
	return s
}

func (s sequence) learned() bool {
	for _, w := range s.weights {
		if w > 0 {
			return true
		}
	}
	return false
}

// packDocuments joins documents with EOS into one stream and cuts it into
// blocks of T+1 ids overlapping by one, so every id but the first is a target
// exactly once and no position is padding. It streams: memory holds the
// current document and less than one block of the stream, however many
// documents there are.
func packDocuments(tok *Tokenizer, T int, docs iter.Seq2[string, error]) iter.Seq2[sequence, error] {
	return func(yield func(sequence, error) bool) {
		var stream []int32
		for d, err := range docs {
			if err != nil {
				yield(sequence{}, err)
				return
			}
			stream = append(append(stream, tok.Encode(d)...), EOSID)
			start := 0
			for ; start+T+1 <= len(stream); start += T {
				if !yield(newSequence(T, stream[start:start+T+1], nil), nil) {
					return
				}
			}
			stream = stream[:copy(stream, stream[start:])]
		}
		if len(stream) > 1 {
			yield(newSequence(T, stream, nil), nil)
		}
	}
}

// packedCount is how many sequences packDocuments cuts from the documents,
// found from their token count alone (a cheap pass: no sequences are built),
// so an epoch's length is known before training starts.
func packedCount(tok *Tokenizer, T int, docs iter.Seq2[string, error]) (int, error) {
	ids := 0
	for d, err := range docs {
		if err != nil {
			return 0, err
		}
		ids += len(tok.Encode(d)) + 1 // + EOS
	}
	if ids < 2 {
		return 0, nil
	}
	return (ids - 1 + T - 1) / T, nil
}

// fitPromptResponse places a prompt and a response in T+1 ids: the response
// keeps at least half the room, the prompt loses its beginning first.
func fitPromptResponse(T int, prompt, response []int32) (ids []int32, learn []bool) {
	return fitResponseRoom(T, prompt, response, T+1-(T+1)/2)
}

// fitResponseRoom places a prompt and a response in T+1 ids: the response
// keeps at least keep ids of the room (fewer if it is shorter), the prompt
// as much of the rest as it needs, losing its beginning first.
func fitResponseRoom(T int, prompt, response []int32, keep int) (ids []int32, learn []bool) {
	room := T + 1
	if len(response) > room-min(len(prompt), room-keep) {
		response = response[:room-min(len(prompt), room-keep)]
	}
	if len(prompt)+len(response) > room {
		prompt = prompt[len(prompt)+len(response)-room:]
	}
	ids = append(append(ids, prompt...), response...)
	learn = make([]bool, len(ids))
	for i := len(prompt); i < len(ids); i++ {
		learn[i] = true
	}
	return ids, learn
}

// responseIDs is a response as the model is trained to produce it.
func responseIDs(tok *Tokenizer, response string) []int32 {
	return append(tok.Encode(response), EndID)
}

// promptIDs is a single-turn user prompt in the chat template.
func promptIDs(tok *Tokenizer, prompt string) []int32 {
	return tok.Encode(ChatPrompt([]schemas.Turn{{Role: schemas.RoleUser, Content: prompt}}))
}

// sftSequences encodes an SFT split as it streams, learning only assistant
// tokens; chats with nothing to learn (no assistant turn within T) are
// skipped, here and when counted.
func sftSequences(tok *Tokenizer, T int, chats iter.Seq2[[]schemas.Turn, error]) iter.Seq2[sequence, error] {
	return func(yield func(sequence, error) bool) {
		for msgs, err := range chats {
			if err != nil {
				yield(sequence{}, err)
				return
			}
			ids, learn := tok.EncodeChat(msgs)
			if len(ids) > T+1 {
				ids, learn = ids[:T+1], learn[:T+1]
			}
			if s := newSequence(T, ids, learn); s.learned() {
				if !yield(s, nil) {
					return
				}
			}
		}
	}
}

// answerRoom is the share of the context an answer-first chat keeps for
// its answer: with 64 positions, 16, enough for "答案：<option>（C）" and
// the start of the explanation, leaving 48 for the end of the question and
// its options.
const answerRoom = 4

// answerFirstSequences encodes chats for a stage whose answers must be read
// whole from their start (schemas.StageSpec.AnswerFirst): the last
// assistant turn is the response, learned, and everything before it the
// prompt, which loses its beginning when the chat is longer than the
// context, as evaluation's exam prompts do. Chats without an assistant turn
// last are skipped.
func answerFirstSequences(tok *Tokenizer, T int, chats iter.Seq2[[]schemas.Turn, error]) iter.Seq2[sequence, error] {
	return func(yield func(sequence, error) bool) {
		for msgs, err := range chats {
			if err != nil {
				yield(sequence{}, err)
				return
			}
			last := len(msgs) - 1
			if last < 0 || msgs[last].Role != schemas.RoleAssistant {
				continue
			}
			prompt, _ := tok.EncodeChat(msgs[:last])
			prompt = append(prompt, AssistantID)
			ids, learn := fitResponseRoom(T, prompt, responseIDs(tok, msgs[last].Content), (T+1)/answerRoom)
			if s := newSequence(T, ids, learn); s.learned() {
				if !yield(s, nil) {
					return
				}
			}
		}
	}
}

// preferencePair is a DPO row as two sequences, chosen and rejected.
type preferencePair struct{ chosen, rejected sequence }

func dpoPairs(tok *Tokenizer, T int, rows iter.Seq2[schemas.DPORow, error]) ([]preferencePair, error) {
	var out []preferencePair
	for r, err := range rows {
		if err != nil {
			return nil, err
		}
		p := promptIDs(tok, r.Prompt)
		c := promptResponseSequence(T, p, responseIDs(tok, r.Chosen))
		j := promptResponseSequence(T, p, responseIDs(tok, r.Rejected))
		if c.learned() && j.learned() {
			out = append(out, preferencePair{c, j})
		}
	}
	return out, nil
}

func promptResponseSequence(T int, prompt, response []int32) sequence {
	ids, learn := fitPromptResponse(T, prompt, response)
	return newSequence(T, ids, learn)
}

// batchTensors stacks sequences into tokens, targets [B, T] int32 and
// weights [B, T] float32.
func batchTensors(seqs []sequence) (tokens, targets, weights *tensors.Tensor) {
	B, T := len(seqs), len(seqs[0].tokens)
	tok, tgt := make([]int32, 0, B*T), make([]int32, 0, B*T)
	w := make([]float32, 0, B*T)
	for _, s := range seqs {
		tok, tgt, w = append(tok, s.tokens...), append(tgt, s.targets...), append(w, s.weights...)
	}
	return tensors.FromFlatDataAndDimensions(tok, B, T),
		tensors.FromFlatDataAndDimensions(tgt, B, T),
		tensors.FromFlatDataAndDimensions(w, B, T)
}

func errNoData(stage, path string) error {
	return fmt.Errorf("%s: %s has no usable rows (run `chimed build-stages` first)", stage, path)
}
