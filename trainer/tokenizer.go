package trainer

import (
	"cmp"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/schemas"
)

// The special tokens, in id order. Markers are recognised in text by Encode
// and written back as themselves by Decode, so a chat prompt rendered as a
// string (ChatPrompt) encodes to the same ids SFT trained on.
const (
	TokenPad       = "<|pad|>"
	TokenEOS       = "<|eos|>" // ends a document in packed DCPT blocks
	TokenSystem    = "<|system|>"
	TokenUser      = "<|user|>"
	TokenAssistant = "<|assistant|>"
	TokenEnd       = "<|end|>" // ends a chat turn; generation stops on it
)

var specialTokens = []string{TokenPad, TokenEOS, TokenSystem, TokenUser, TokenAssistant, TokenEnd}

// Ids of the special tokens and of the first byte-fallback token.
const (
	PadID = iota
	EOSID
	SystemID
	UserID
	AssistantID
	EndID
	byteBase // ids byteBase … byteBase+255 are the bytes 0x00 … 0xFF
	charBase = byteBase + 256
)

// Tokenizer maps text to ids: one id per frequent character, UTF-8 bytes for
// every other character (and for invalid UTF-8), plus the special tokens. It
// is hand-written: a character vocabulary with byte fallback is a few dozen
// lines, and it round-trips any string exactly.
type Tokenizer struct {
	// Chars are the vocabulary's characters; Chars[i] has id charBase+i.
	Chars []string `json:"chars"`
	// MinFreq is the frequency floor the vocabulary was built with.
	MinFreq int `json:"min_freq"`

	ids map[rune]int32
}

// TokenizerFile is the tokenizer's file name inside a run folder.
const TokenizerFile = "tokenizer.json"

// BuildTokenizer counts the characters of texts and keeps, most frequent
// first, those seen at least minFreq times, up to maxVocab ids in all
// (specials and bytes included). Ties break by code point, so the same texts
// always give the same vocabulary.
func BuildTokenizer(texts iter.Seq2[string, error], minFreq, maxVocab int) (*Tokenizer, error) {
	counts := map[rune]int{}
	for s, err := range texts {
		if err != nil {
			return nil, err
		}
		for _, r := range s {
			if r != utf8.RuneError {
				counts[r]++
			}
		}
	}
	type rc struct {
		r rune
		n int
	}
	var all []rc
	for r, n := range counts {
		if n >= minFreq && utf8.RuneLen(r) > 1 || n >= minFreq && r >= 0x20 && r < 0x7f {
			all = append(all, rc{r, n})
		}
	}
	slices.SortFunc(all, func(a, b rc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.r, b.r)
	})
	if room := maxVocab - charBase; maxVocab > 0 && len(all) > room {
		all = all[:max(room, 0)]
	}
	t := &Tokenizer{MinFreq: minFreq}
	for _, x := range all {
		t.Chars = append(t.Chars, string(x.r))
	}
	t.index()
	return t, nil
}

func (t *Tokenizer) index() {
	t.ids = make(map[rune]int32, len(t.Chars))
	for i, c := range t.Chars {
		r, _ := utf8.DecodeRuneInString(c)
		t.ids[r] = int32(charBase + i)
	}
}

// Size is the number of ids.
func (t *Tokenizer) Size() int { return charBase + len(t.Chars) }

// Encode turns text into ids. Special markers in the text become their ids.
func (t *Tokenizer) Encode(s string) []int32 {
	out := make([]int32, 0, len(s)/2)
	for len(s) > 0 {
		if s[0] == '<' {
			if id, n := specialAt(s); n > 0 {
				out = append(out, id)
				s = s[n:]
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(s)
		if id, ok := t.ids[r]; ok && !(r == utf8.RuneError && n == 1) {
			out = append(out, id)
		} else {
			for i := range n {
				out = append(out, int32(byteBase)+int32(s[i]))
			}
		}
		s = s[n:]
	}
	return out
}

func specialAt(s string) (int32, int) {
	for id, m := range specialTokens {
		if strings.HasPrefix(s, m) {
			return int32(id), len(m)
		}
	}
	return 0, 0
}

// Decode turns ids back into text; Decode(Encode(s)) == s for every s.
func (t *Tokenizer) Decode(ids []int32) string {
	var b []byte
	for _, id := range ids {
		switch {
		case id < 0:
		case id < byteBase:
			b = append(b, specialTokens[id]...)
		case id < charBase:
			b = append(b, byte(id-byteBase))
		case int(id-charBase) < len(t.Chars):
			b = append(b, t.Chars[id-charBase]...)
		}
	}
	return string(b)
}

// ChatPrompt renders turns in the chat template SFT trains on, ending with
// the assistant's start marker so the model's continuation is the answer:
//
//	<|system|>…<|end|><|user|>…<|end|><|assistant|>
func ChatPrompt(messages []schemas.Turn) string {
	var b strings.Builder
	for _, m := range messages {
		b.WriteString(roleMarker(m.Role))
		b.WriteString(m.Content)
		b.WriteString(TokenEnd)
	}
	b.WriteString(TokenAssistant)
	return b.String()
}

func roleMarker(role string) string {
	switch role {
	case schemas.RoleSystem:
		return TokenSystem
	case schemas.RoleAssistant:
		return TokenAssistant
	default:
		return TokenUser
	}
}

// EncodeChat encodes a conversation and marks which tokens the model learns
// to predict: the content and end marker of every assistant turn.
func (t *Tokenizer) EncodeChat(messages []schemas.Turn) (ids []int32, learn []bool) {
	for _, m := range messages {
		head := append([]int32{int32(markerID(m.Role))}, t.Encode(m.Content)...)
		head = append(head, EndID)
		ids = append(ids, head...)
		for i := range head {
			learn = append(learn, m.Role == schemas.RoleAssistant && i > 0)
		}
	}
	return ids, learn
}

func markerID(role string) int {
	switch role {
	case schemas.RoleSystem:
		return SystemID
	case schemas.RoleAssistant:
		return AssistantID
	default:
		return UserID
	}
}

// Save writes the tokenizer to path atomically.
func (t *Tokenizer) Save(path string) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// LoadTokenizer reads a tokenizer saved with Save.
func LoadTokenizer(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Tokenizer
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, c := range t.Chars {
		if utf8.RuneCountInString(c) != 1 || c == string(utf8.RuneError) {
			return nil, fmt.Errorf("%s: chars[%d] = %q is not one character", path, i, c)
		}
	}
	t.index()
	return &t, nil
}
