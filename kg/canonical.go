package kg

import (
	"strings"
	"unicode"

	"github.com/chimed/chimed/schemas"
)

// Reasons a triple is not used, as counted in the stage manifest.
const (
	ReasonEmpty     = "kg_empty"     // head, relation or tail empty after trimming
	ReasonSelfLoop  = "kg_self_loop" // head equals tail
	ReasonTruncated = "kg_truncated" // an entity ends in "..." or "…": cut off by its publisher
	ReasonDuplicate = "kg_duplicate" // the same canonical triple was seen before
)

// trimEntity drops surrounding spaces (U+3000 included), zero-width
// characters and trailing sentence punctuation that publishers leave on
// entity names.
func trimEntity(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff'
	})
	return strings.TrimRightFunc(s, func(r rune) bool {
		return strings.ContainsRune("。，,;；、:：", r) || unicode.IsSpace(r)
	})
}

// EntityNames returns a triple's head and tail as every paragraph and
// question about it spells them (trimmed as Canonicalize trims them), for a
// check that reads the stage files on its own.
func EntityNames(t schemas.Triple) (head, tail string) {
	return trimEntity(t.Head), trimEntity(t.Tail)
}

// truncated reports whether an entity was cut off by its publisher.
func truncated(s string) bool {
	return strings.HasSuffix(s, "...") || strings.HasSuffix(s, "…") || strings.HasSuffix(s, "。。。")
}

// Canonicalize trims a triple's entities and maps its relation to the
// canonical name in place. It returns "" when the triple is usable, else the
// reason it is not (ReasonEmpty, ReasonSelfLoop, ReasonTruncated).
func Canonicalize(t *schemas.Triple, table *RelationTable) string {
	t.Head = trimEntity(t.Head)
	t.Tail = trimEntity(t.Tail)
	t.HeadType = trimEntity(t.HeadType)
	t.TailType = trimEntity(t.TailType)
	t.Relation = table.Canonical(trimEntity(t.Relation))
	switch {
	case t.Head == "" || t.Tail == "" || t.Relation == "":
		return ReasonEmpty
	case truncated(t.Head) || truncated(t.Tail):
		return ReasonTruncated
	case t.Head == t.Tail:
		return ReasonSelfLoop
	}
	return ""
}
