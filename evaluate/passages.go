package evaluate

import (
	"fmt"
	"strings"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// PassageRunes caps a passage's length in characters: the model's context is
// short, so retrieval works on paragraph-sized pieces.
const PassageRunes = 160

// BuildPassageIndex indexes the workspace's clean text (title + text, cut at
// sentence ends into pieces of at most PassageRunes characters) and its
// knowledge graph (all facts about one head entity as one paragraph
// "头：关系：尾；…", cut the same way) for the RAG exam variant. Held-out
// exam questions live only in clean/exam, which is not indexed.
func BuildPassageIndex(ws workspace.Dir) (*BM25, error) {
	x := NewBM25()
	for r, err := range schemas.ReadDir[schemas.Text](ws.Clean(schemas.KindText)) {
		if err != nil {
			return nil, fmt.Errorf("passages: %w", err)
		}
		body := r.Text
		if r.Title != "" && !strings.HasPrefix(body, r.Title) {
			body = r.Title + "：" + body
		}
		for _, p := range cutPassage(body, PassageRunes) {
			if err := x.Add(p); err != nil {
				return nil, err
			}
		}
	}
	// Facts are grouped by head; heads keep their first-seen order.
	var heads []string
	facts := map[string][]string{}
	for t, err := range schemas.ReadDir[schemas.Triple](ws.Clean(schemas.KindKG)) {
		if err != nil {
			return nil, fmt.Errorf("passages: %w", err)
		}
		if _, ok := facts[t.Head]; !ok {
			heads = append(heads, t.Head)
		}
		facts[t.Head] = append(facts[t.Head], t.Relation+"："+t.Tail)
	}
	for _, h := range heads {
		for _, p := range cutPassage(h+"："+strings.Join(facts[h], "；")+"。", PassageRunes) {
			if err := x.Add(p); err != nil {
				return nil, err
			}
		}
	}
	return x, nil
}

// cutPassage splits s into pieces of at most n runes, preferring to cut
// after a sentence end (。！？；\n) in the second half of a piece.
func cutPassage(s string, n int) []string {
	rs := []rune(strings.TrimSpace(s))
	var out []string
	for len(rs) > 0 {
		if len(rs) <= n {
			out = append(out, string(rs))
			break
		}
		cut := n
		for i := n - 1; i >= n/2; i-- {
			if strings.ContainsRune("。！？；\n", rs[i]) {
				cut = i + 1
				break
			}
		}
		if p := strings.TrimSpace(string(rs[:cut])); p != "" {
			out = append(out, p)
		}
		rs = []rune(strings.TrimSpace(string(rs[cut:])))
	}
	return out
}
