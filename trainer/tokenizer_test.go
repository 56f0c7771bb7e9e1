package trainer

import (
	"iter"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chimed/chimed/schemas"
)

func textsOf(ss ...string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for _, s := range ss {
			if !yield(s, nil) {
				return
			}
		}
	}
}

func TestTokenizerRoundTrip(t *testing.T) {
	tok, err := BuildTokenizer(textsOf("高血压患者头晕头痛", "高血压常用氨氯地平", "abc"), 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   string
		ids  int // expected id count, -1 to skip
	}{
		{"vocab chars", "高血压", 3},
		{"rare char spelled as bytes", "癌", 3},
		{"ascii below floor", "x", 1},
		{"emoji", "😷", 4},
		{"invalid utf-8", "\xff\xfe高", 3},
		{"lone continuation byte", "\x80", 1},
		{"literal U+FFFD", "\uFFFD", 3},
		{"special marker", TokenUser + "高血" + TokenEnd, 4},
		{"unfinished marker", "<|use", 5},
		{"empty", "", 0},
		{"newlines and tabs", "头\n\t痛\r\n", -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids := tok.Encode(c.in)
			if got := tok.Decode(ids); got != c.in {
				t.Fatalf("Decode(Encode(%q)) = %q", c.in, got)
			}
			if c.ids >= 0 && len(ids) != c.ids {
				t.Errorf("Encode(%q) = %d ids %v, want %d", c.in, len(ids), ids, c.ids)
			}
		})
	}
}

// TestTokenizerStageText round-trips every text of every stage file and
// checks that a saved tokenizer loads to the same ids.
func TestTokenizerStageText(t *testing.T) {
	ws := fixtureWorkspace(t)
	tok, err := BuildTokenizer(readDCPTTexts(ws.StageFile(schemas.StageDCPT, "train")), 2, 1200)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), TokenizerFile)
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadTokenizer(path)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, split := range schemas.Splits {
		for r, err := range schemas.ReadFile[schemas.DCPTRow](ws.StageFile(schemas.StageDCPT, split)) {
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, r.Text)
		}
		for r, err := range schemas.ReadFile[schemas.SFTRow](ws.StageFile(schemas.StageSFT, split)) {
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Messages {
				texts = append(texts, m.Content)
			}
			texts = append(texts, ChatPrompt(r.Messages))
		}
		for r, err := range schemas.ReadFile[schemas.DPORow](ws.StageFile(schemas.StageDPO, split)) {
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, r.Prompt, r.Chosen, r.Rejected)
		}
	}
	for _, s := range texts {
		ids := tok.Encode(s)
		if got := tok.Decode(ids); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
		if !slices.Equal(loaded.Encode(s), ids) {
			t.Fatalf("loaded tokenizer encodes %q differently", s)
		}
	}
}

func TestEncodeChat(t *testing.T) {
	tok, _ := BuildTokenizer(textsOf("你好你好医生医生"), 1, 0)
	msgs := []schemas.Turn{{Role: schemas.RoleSystem, Content: "医"}, {Role: schemas.RoleUser, Content: "你好"}, {Role: schemas.RoleAssistant, Content: "医生"}}
	ids, learn := tok.EncodeChat(msgs)
	// The chat template as a string encodes to the same ids, up to the
	// assistant's start marker.
	prompt := tok.Encode(ChatPrompt(msgs[:2]))
	if !slices.Equal(ids[:len(prompt)], prompt) {
		t.Fatalf("EncodeChat %v does not start with ChatPrompt's ids %v", ids, prompt)
	}
	var learned []int32
	for i, l := range learn {
		if l {
			learned = append(learned, ids[i])
		}
	}
	if got := tok.Decode(learned); got != "医生"+TokenEnd {
		t.Errorf("learned tokens decode to %q, want the assistant's answer and end marker", got)
	}
}

func FuzzTokenizerRoundTrip(f *testing.F) {
	tok, err := BuildTokenizer(textsOf("高血压糖尿病患者头晕头痛abc", "高血压糖尿病患者头晕头痛abc"), 2, 0)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "高血压", "\xff", TokenAssistant, "<|", "a<|end|>b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := tok.Decode(tok.Encode(s)); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
	})
}
