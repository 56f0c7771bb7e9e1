package dedup

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/chimed/chimed/schemas"
)

// TestFoldMatchesNFKC checks the hand-written fast path of appendFolded
// against x/text's NFKC followed by the slow path.
func TestFoldMatchesNFKC(t *testing.T) {
	for _, s := range []string{
		"高血压，ＣＴ检查１０ｍｇ。“引号”——破折号……省略号·间隔号　全角空格【方括号】《书名》、顿号",
		"ABC abc 123 !?", "①㎎℃ 비타민 éé", "",
	} {
		for _, keep := range []bool{false, true} {
			got := string(appendFolded(nil, s, keep))
			want := string(appendFoldedSlow(nil, norm.NFKC.String(s), keep))
			if got != want {
				t.Errorf("fold(%q, punct=%v) = %q, want %q", s, keep, got, want)
			}
		}
	}
}

// appendFoldedSlow is the definition appendFolded must match.
func appendFoldedSlow(dst []rune, s string, keepPunct bool) []rune {
	for _, r := range s {
		switch {
		case r < 0x80 && r >= 'A' && r <= 'Z':
			dst = append(dst, r+'a'-'A')
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			dst = append(dst, r)
		case r < 0x80:
			if keepPunct && r > ' ' && r < 0x7f {
				dst = append(dst, r)
			}
		case isLetterOrDigit(r):
			dst = append(dst, toLower(r))
		case keepPunct && isPunctOrSymbol(r):
			dst = append(dst, r)
		}
	}
	return dst
}

func isLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
func isPunctOrSymbol(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }
func toLower(r rune) rune         { return unicode.ToLower(r) }

// matchCanonByLength is EvalIndex.matchCanon as it was first written, the
// definition the one-scan version is held to: the first window of each key
// length in turn, each found by its own scan and a plain map lookup.
func matchCanonByLength(x *EvalIndex, rs []rune) int {
	first := func(n int, salt uint64) int {
		found := -1
		if n > 0 && len(rs) >= n {
			WindowHashes(rs, n, salt, func(h uint64) bool {
				id, ok := x.grams[h]
				if ok {
					found = int(id)
				}
				return !ok
			})
		}
		return found
	}
	if len(rs) == 0 {
		return -1
	}
	found := first(x.n, 0)
	for _, l := range x.shortLens {
		if found >= 0 || l > len(rs) {
			break
		}
		found = first(l, saltShort)
	}
	if found < 0 && len(rs) < x.n && len(rs) < minShortEval {
		found = first(len(rs), saltShort)
	}
	return found
}

// TestEvalMatchCanonOneScan checks the one-scan matchCanon against
// matchCanonByLength on random training texts with eval texts of every
// kind planted in them: longer than n, short (minShortEval to n−1 runes)
// and very short, for n of 13 and of 4 (where no text is short).
func TestEvalMatchCanonOneScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []rune("高血压糖尿病心肌梗死头痛发热咳嗽abc123")
	text := func(n int) []rune {
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return rs
	}
	for _, n := range []int{13, 4} {
		x := NewEvalIndex(n, false)
		var evals [][]rune
		for i := range 60 {
			e := text(2 + rng.IntN(20))
			evals = append(evals, e)
			x.Add(new(qa("eval", i, string(e), "答")), nil)
		}
		if n == 13 && len(x.shortLens) < 3 {
			t.Fatalf("only %d short lengths: the test needs several", len(x.shortLens))
		}
		hits := map[bool]int{}
		for range 4000 {
			rs := text(rng.IntN(40))
			if rng.IntN(2) == 0 { // plant part or all of an eval text
				e := evals[rng.IntN(len(evals))]
				from := rng.IntN(len(e))
				if rng.IntN(2) == 0 {
					from = 0
				}
				rs = append(append(rs, e[from:]...), text(rng.IntN(5))...)
			}
			if rng.IntN(8) == 0 { // a whole eval text alone
				rs = slices.Clone(evals[rng.IntN(len(evals))])
			}
			want := matchCanonByLength(x, rs)
			if got := x.matchCanon(rs); got != want {
				t.Fatalf("n %d: matchCanon(%q) = %d, want %d", n, string(rs), got, want)
			}
			hits[want >= 0]++
		}
		if hits[true] < 500 || hits[false] < 500 {
			t.Fatalf("n %d: %d matches and %d misses: the test should have many of both", n, hits[true], hits[false])
		}
	}
}

// checkFoldedOnce checks that what pass 1 computes from the key fields
// folded once (CanonKey, canonRunes) equals what canonKey and
// appendCanon compute from the fields themselves.
func checkFoldedOnce(t *testing.T, fields []string) {
	t.Helper()
	folded, spans := FoldFields(fields, nil, nil)
	for ns := uint64(0); ns < 2; ns++ {
		want, _ := canonKey(fields, ns, nil)
		if got, _ := CanonKey(folded, spans, ns, nil); got != want {
			t.Fatalf("CanonKey(%q, ns %d) = %x, canonKey = %x", fields, ns, got, want)
		}
	}
	if len(spans) != len(fields) {
		t.Fatalf("%d spans for %d fields", len(spans), len(fields))
	}
	for i, f := range fields {
		got := string(canonRunes(nil, folded[spans[i][0]:spans[i][1]]))
		if want := string(appendCanon(nil, f)); got != want {
			t.Fatalf("canonRunes of field %q = %q, appendCanon = %q", f, got, want)
		}
	}
	sh, _ := (&MinHasher{Mode: ShingleChar, NGram: 5}).Shingles(fields, nil, nil)
	if got := (&MinHasher{Mode: ShingleChar, NGram: 5}).charShingles(folded, nil); !slices.Equal(got, sh) {
		t.Fatalf("shingles of the folded text differ from Shingles(%q)", fields)
	}
}

func TestFoldedOnce(t *testing.T) {
	for _, fields := range [][]string{
		{"高血压，ＣＴ检查１０ｍｇ。“引号”……", "答：ABC abc 123 !?"},
		{"①㎎℃ 비타민 éé İstanbul ǅ", "", "…"},
		{"user", "医生你好，我头痛", "assistant", "建议就医。"},
		{},
	} {
		checkFoldedOnce(t, fields)
	}
}

func FuzzCanonFromFolded(f *testing.F) {
	f.Add("高血压，ＣＴ检查１０ｍｇ。", "ABC abc 123 !?…")
	f.Add("①㎎℃ 비타민 éé", "İ ǅ ß ﬁ")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			t.Skip() // ingest quarantines invalid UTF-8 before clean sees it
		}
		checkFoldedOnce(t, []string{a, b})
	})
}

// TestProbeKeyIndex checks that ProbeKeyIndex points at probeFields'
// values among KeyFields'.
func TestProbeKeyIndex(t *testing.T) {
	turns := []schemas.Turn{{Role: schemas.RoleUser, Content: "头痛"}, {Role: schemas.RoleAssistant, Content: "休息"}, {Role: schemas.RoleUser, Content: "发热"}}
	for _, r := range []schemas.Record{
		&schemas.Text{Text: "正文"},
		&schemas.QA{Question: "问", Answer: "答"},
		&schemas.Dialogue{Turns: turns},
		&schemas.PreferencePair{Prompt: "p", Chosen: "c", Rejected: "r"},
		&schemas.ExamQuestion{Question: "q", Options: []schemas.Option{{Label: "A", Text: "a"}}, Answer: "A"},
		&schemas.Triple{Head: "h", Relation: "r", Tail: "t"},
	} {
		keys, idx := KeyFields(r, nil), ProbeKeyIndex(r, nil)
		var got []string
		for _, j := range idx {
			got = append(got, keys[j])
		}
		if want := probeFields(r, nil); !slices.Equal(got, want) {
			t.Errorf("%T: probe fields via ProbeKeyIndex %q, probeFields %q", r, got, want)
		}
	}
}

// probeFields and canonKey are the definitions ProbeKeyIndex and
// CanonKey are held to: the probe values themselves, and the key
// computed field by field.

// probeFields lists the values checked against the eval sets: what a model
// would be prompted with or read (the question, the document, the user's
// turns, the prompt).
func probeFields(r schemas.Record, dst []string) []string {
	switch r := r.(type) {
	case *schemas.Text:
		return append(dst, r.Text)
	case *schemas.QA:
		return append(dst, r.Question)
	case *schemas.Dialogue:
		for _, t := range r.Turns {
			if t.Role == schemas.RoleUser {
				dst = append(dst, t.Content)
			}
		}
		return dst
	case *schemas.PreferencePair:
		return append(dst, r.Prompt)
	case *schemas.ExamQuestion:
		return append(dst, r.Question)
	}
	return dst
}

// canonKey hashes the canonical key of a row into 64 bits, salted with the
// dedup namespace (eval rows are deduplicated only among themselves).
func canonKey(fields []string, ns uint64, buf []rune) (uint64, []rune) {
	buf = buf[:0]
	for i, f := range fields {
		if i > 0 {
			buf = append(buf, fieldSep)
		}
		buf = appendCanon(buf, f)
	}
	// Hash the runes' UTF-8 bytes in one call (a Write per rune costs more
	// than the hashing).
	b := make([]byte, 8, 8+len(buf)*3)
	binary.LittleEndian.PutUint64(b, ns)
	for _, r := range buf {
		b = utf8.AppendRune(b, r)
	}
	return xxhash.Sum64(b), buf
}

// appendRuneGramHashes gives exactly what runeGramHashes passes its fn,
// for texts shorter and longer than the window.
func TestAppendRuneGramHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	for i := range 500 {
		rs := make([]rune, r.IntN(40))
		for j := range rs {
			rs[j] = rune(0x4e00 + r.IntN(50))
		}
		n, salt := 1+r.IntN(8), r.Uint64()
		var want []uint64
		runeGramHashes(rs, n, salt, func(h uint64) bool { want = append(want, h); return true })
		if got := appendRuneGramHashes([]uint64{1}, rs, n, salt); !slices.Equal(got, append([]uint64{1}, want...)) {
			t.Fatalf("case %d (%d runes, n %d): %d hashes, want %d", i, len(rs), n, len(got)-1, len(want))
		}
	}
}

// qa is a QA row of source src, row row.
func qa(src string, row int, q, a string) schemas.QA {
	return schemas.QA{ID: schemas.StableIDAt(src, "raw/"+src+".jsonl", int64(row), -1), Source: src, Question: q, Answer: a}
}
