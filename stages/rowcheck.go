package stages

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// rowCheck is the leakage check folded into the build. It reads every
// training row as it is written, not what the builder made of the record,
// and applies CheckLeakage's rules with its own code: exact n-character
// windows of the canonical eval questions (the builder filters with rolling
// hashes), short eval questions as whole lines of what a row asks, the eval
// records and clusters behind a row, and one split per group key and per
// cluster (splitIndex, spilled to disk past its budget). CheckLeakage still
// re-reads the written files behind Options.Check.
//
// Its eval tables are written once, by the eval pass, and only read after;
// each kind's scanner has its own scratch, so kinds check side by side.
type rowCheck struct {
	n int
	// grams are the eval questions' windows; shorts the eval questions
	// shorter than n, whole, both canonical.
	grams, shorts map[string]struct{}
	// lead has a bit set for the first three runes of every window in
	// grams, so most windows of training text are passed over without
	// hashing them as strings.
	lead []uint64
	// evalRecs and evalClusters are the clean records behind the eval
	// sets and their clusters.
	evalRecs, evalClusters map[string]struct{}
	groups, clusters       *splitIndex
}

const leadBits = 18 // 32 KiB

func newRowCheck(n int, sb *spillBudget) *rowCheck {
	return &rowCheck{n: n, grams: map[string]struct{}{}, shorts: map[string]struct{}{},
		lead:     make([]uint64, 1<<leadBits/64),
		evalRecs: map[string]struct{}{}, evalClusters: map[string]struct{}{},
		groups: newSplitIndex("group", sb), clusters: newSplitIndex("cluster", sb)}
}

func leadBit(a, b, c rune) uint64 {
	k := uint64(a)<<42 | uint64(b)<<21 | uint64(c)
	return (k * 0xff51afd7ed558ccd) >> (64 - leadBits)
}

// addEval indexes an eval question and the clean record behind it.
func (c *rowCheck) addEval(question, record, cluster string) {
	c.evalRecs[record] = struct{}{}
	c.evalClusters[cmpOr(cluster, record)] = struct{}{}
	cq := canonical(question)
	rs := []rune(cq)
	if len(rs) < c.n {
		if cq != "" {
			c.shorts[cq] = struct{}{}
		}
		return
	}
	offs := runeOffsets(cq)
	for i := 0; i+c.n < len(offs); i++ {
		c.grams[cq[offs[i]:offs[i+c.n]]] = struct{}{}
		b := leadBit(rs[i], rs[i+1], rs[i+2])
		c.lead[b/64] |= 1 << (b % 64)
	}
}

// rowScanner checks one kind's rows; its buffers are reused row to row.
type rowScanner struct {
	c    *rowCheck
	buf  []byte // a canonical window or line
	ring []rune // the last n canonical runes
}

// window returns the first window of text that is an eval question's, or
// "". It folds rune by rune into a ring of the last n runes and spells a
// window out only when its first three runes lead some eval window.
func (s *rowScanner) window(text string) string {
	c := s.c
	if len(c.grams) == 0 {
		return ""
	}
	n := c.n
	// Each rune goes in twice, n apart, so the window is ring[at:at+n].
	if cap(s.ring) < 2*n {
		s.ring = make([]rune, 2*n)
	}
	ring := s.ring[:2*n]
	count, at := 0, 0 // runes read; where the window starts once n are
	for _, r := range text {
		r, ok := fold(r)
		if !ok {
			continue
		}
		if count < n {
			ring[count], ring[count+n] = r, r
			if count++; count < n {
				continue
			}
		} else {
			ring[at], ring[at+n] = r, r
			if at++; at == n {
				at = 0
			}
		}
		w := ring[at : at+n]
		b := leadBit(w[0], w[1], w[2])
		if c.lead[b/64]&(1<<(b%64)) == 0 {
			continue
		}
		s.buf = s.buf[:0]
		for _, r := range w {
			s.buf = utf8.AppendRune(s.buf, r)
		}
		if _, ok := c.grams[string(s.buf)]; ok {
			return string(s.buf)
		}
	}
	return ""
}

// text fails if text shares a window with an eval question or, for a
// question, has a line that is a whole short eval question.
func (s *rowScanner) text(file, id, text string, question bool) error {
	if w := s.window(text); w != "" {
		return rowLeak(file, id, "shares %q with an eval question", w)
	}
	if question && len(s.c.shorts) > 0 {
		for line := range strings.SplitSeq(text, "\n") {
			if s.short(line) {
				return rowLeak(file, id, "asks the eval question %q", line)
			}
		}
	}
	return nil
}

// short reports whether line is, canonically, a whole short eval question.
func (s *rowScanner) short(line string) bool {
	s.buf = s.buf[:0]
	n := 0
	for _, r := range line {
		if r, ok := fold(r); ok {
			if n++; n >= s.c.n {
				return false
			}
			s.buf = utf8.AppendRune(s.buf, r)
		}
	}
	_, ok := s.c.shorts[string(s.buf)]
	return ok
}

// kgText scans knowledge-graph text as CheckLeakage's scanKGText does:
// each long entity on its own, then the text with its entities cut out.
func (s *rowScanner) kgText(file, id, text string, names []string) error {
	names = slices.Clone(names)
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	masked := text
	for _, e := range names {
		if e == "" {
			continue
		}
		if utf8.RuneCountInString(e) >= 2*s.c.n {
			if err := s.text(file, id, e, false); err != nil {
				return err
			}
		}
		masked = strings.ReplaceAll(masked, e, "\x1f")
	}
	return s.text(file, id, masked, false)
}

// rowFacts is what the check needs to know of the clean records behind a
// row beyond their ids: each record's cluster and, for knowledge-graph
// records, the head and tail as stage text spells them.
type rowFacts interface {
	cluster(record string) string
	entities(records []string) []string
}

// row checks one written training row and its lineage.
func (s *rowScanner) row(file string, split int, v any, l LineageRow, facts rowFacts) error {
	scan := func(kind, text string, question bool) error {
		if kind == string(schemas.KindKG) && !question {
			return s.kgText(file, l.ID, text, facts.entities(l.Records))
		}
		return s.text(file, l.ID, text, question)
	}
	switch r := v.(type) {
	case schemas.DCPTRow:
		if err := scan(r.Kind, r.Text, false); err != nil {
			return err
		}
	case schemas.SFTRow:
		for _, m := range r.Messages {
			if err := scan(r.Kind, m.Content, m.Role == schemas.RoleUser); err != nil {
				return err
			}
		}
	case schemas.DPORow:
		for j, t := range []string{r.Prompt, r.Chosen, r.Rejected} {
			if err := scan(r.Kind, t, j == 0); err != nil {
				return err
			}
		}
	default:
		return rowLeak(file, l.ID, "%T is no stage row", v)
	}
	if err := s.c.groups.add(l.Group, int8(split)); err != nil {
		return err
	}
	for _, rec := range l.Records {
		if _, ok := s.c.evalRecs[rec]; ok {
			return rowLeak(file, l.ID, "eval record %s is behind a training row", rec)
		}
		cl := cmpOr(facts.cluster(rec), rec)
		if _, ok := s.c.evalClusters[cl]; ok {
			return rowLeak(file, l.ID, "record %s shares a near-duplicate cluster with an eval record", rec)
		}
		if err := s.c.clusters.add(cl, int8(split)); err != nil {
			return err
		}
	}
	return nil
}
