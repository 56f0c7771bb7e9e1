package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is the expression language of Mapping.Fields, hand-written
// because it is a dozen lines of grammar and no kept library speaks it:
//
//	expr  = alt { "|" alt }            first alternative with a non-empty value
//	alt   = term { "+" term }          concatenation
//	term  = literal | path | "dedup(" alt ")"
//	literal = "'" { char | "\'" | "\\" | "\n" | "\t" } "'"
//	path  = "$" | "." | [ "$." ] step { "." key | "[" index "]" | "[" quoted "]" }
//	step  = key | "[" index "]" | "[" quoted "]"
//
// A key is any run of characters other than . [ ] + | ' " ( ) with the spaces
// around it trimmed, so "Disease Group", "问" and "object.@value" need no
// quoting; a key holding one of those characters is written as a
// double-quoted string in brackets: ["a.b"] or ["x+y"]. An index may be
// negative to count from the end ([-1] is the last element). "$" alone is the
// whole record, "." alone the current element of Mapping.Each (the whole
// record without Each); "$.a" starts at the record even inside Each.
//
// Concatenation treats literals as glue: literals before the first path and
// after the last appear when any path has a value; a literal between two
// paths appears only when the paths on both sides have values, so
// "title + '，' + ask" gives just the title when ask is empty and
// "instruction + '\n' + input" adds no trailing newline. An expression of
// literals only is that text. dedup(...) drops a path value that the next
// non-empty path value already starts with (Toyhom's ask often repeats its
// title).

// expr is a compiled Mapping expression.
type expr struct {
	src  string
	alts []concat
}

// concat is one "+"-joined alternative.
type concat struct {
	terms []term
	dedup bool
}

// term is a literal or a path (one of the two).
type term struct {
	lit    string
	isLit  bool
	path   path
	nested *concat // dedup(...)
}

// path is a compiled path into a raw record.
type path struct {
	root  bool   // starts at the record even inside Each
	steps []step // empty: the root (or element) itself
}

type step struct {
	key   string
	index int
	isIdx bool
}

// exprParser is a small recursive-descent parser over the expression text.
type exprParser struct {
	src string
	pos int
}

// parseExpr compiles an expression; errors say where in it they are.
func parseExpr(src string) (*expr, error) {
	p := &exprParser{src: src}
	e := &expr{src: src}
	for {
		c, err := p.concat(false)
		if err != nil {
			return nil, err
		}
		e.alts = append(e.alts, c)
		p.space()
		if p.eof() {
			return e, nil
		}
		if p.peek() != '|' {
			return nil, p.errorf("unexpected %q", p.peek())
		}
		p.pos++
	}
}

func (p *exprParser) errorf(format string, args ...any) error {
	return fmt.Errorf("expression %q at byte %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *exprParser) eof() bool  { return p.pos >= len(p.src) }
func (p *exprParser) peek() byte { return p.src[p.pos] }

func (p *exprParser) space() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == '\n' || p.peek() == '\r') {
		p.pos++
	}
}

// concat parses terms joined by "+" up to "|", ")" or the end.
func (p *exprParser) concat(inParens bool) (concat, error) {
	var c concat
	for {
		p.space()
		if p.eof() || p.peek() == '|' || p.peek() == ')' || p.peek() == '+' {
			return c, p.errorf("a term is missing")
		}
		t, err := p.term()
		if err != nil {
			return c, err
		}
		c.terms = append(c.terms, t)
		p.space()
		if p.eof() || p.peek() == '|' || (inParens && p.peek() == ')') {
			return c, nil
		}
		if p.peek() != '+' {
			return c, p.errorf("unexpected %q (want + or |)", p.peek())
		}
		p.pos++
	}
}

func (p *exprParser) term() (term, error) {
	if p.peek() == '\'' {
		s, err := p.quoted('\'')
		return term{lit: s, isLit: true}, err
	}
	if strings.HasPrefix(p.src[p.pos:], "dedup(") {
		p.pos += len("dedup(")
		c, err := p.concat(true)
		if err != nil {
			return term{}, err
		}
		if p.eof() || p.peek() != ')' {
			return term{}, p.errorf("dedup( is not closed")
		}
		p.pos++
		c.dedup = true
		return term{nested: &c}, nil
	}
	pt, err := p.path()
	return term{path: pt}, err
}

// quoted reads a string in quote characters q, with backslash escapes.
func (p *exprParser) quoted(q byte) (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\' && p.pos+1 < len(p.src):
			p.pos++
			switch e := p.peek(); e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				return "", p.errorf("unknown escape \\%c", e)
			}
			p.pos++
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	p.pos = start
	return "", p.errorf("unterminated %c-quoted string", q)
}

const keyStops = ".[]+|'\"()"

func (p *exprParser) path() (path, error) {
	var pt path
	rest := p.src[p.pos:]
	switch {
	case rest == "$" || strings.HasPrefix(rest, "$ ") || strings.HasPrefix(rest, "$|") || strings.HasPrefix(rest, "$+") || strings.HasPrefix(rest, "$)"):
		p.pos++
		pt.root = true
		return pt, nil
	case strings.HasPrefix(rest, "$."), strings.HasPrefix(rest, "$["):
		pt.root = true
		p.pos++
		if p.peek() == '.' {
			p.pos++
		}
	case strings.HasPrefix(rest, "."):
		// "." alone: the current element.
		p.pos++
		p.space()
		if !p.eof() && strings.IndexByte("+|)", p.peek()) < 0 {
			return pt, p.errorf("a path may not start with '.'")
		}
		return pt, nil
	}
	first := true
	for {
		if !p.eof() && p.peek() == '[' {
			s, err := p.bracket()
			if err != nil {
				return pt, err
			}
			pt.steps = append(pt.steps, s)
		} else if first || (!p.eof() && p.peek() == '.') {
			if !first {
				p.pos++
			}
			start := p.pos
			for !p.eof() && strings.IndexByte(keyStops, p.peek()) < 0 {
				p.pos++
			}
			key := strings.TrimSpace(p.src[start:p.pos])
			if key == "" {
				return pt, p.errorf("empty key in path")
			}
			pt.steps = append(pt.steps, step{key: key})
		} else {
			return pt, nil
		}
		first = false
		if p.eof() || strings.IndexByte(".[", p.peek()) < 0 {
			return pt, nil
		}
	}
}

// bracket reads [N] or ["key"].
func (p *exprParser) bracket() (step, error) {
	p.pos++ // '['
	p.space()
	if p.eof() {
		return step{}, p.errorf("[ is not closed")
	}
	var s step
	if p.peek() == '"' {
		k, err := p.quoted('"')
		if err != nil {
			return s, err
		}
		s = step{key: k}
	} else {
		start := p.pos
		for !p.eof() && p.peek() != ']' {
			p.pos++
		}
		n, err := strconv.Atoi(strings.TrimSpace(p.src[start:p.pos]))
		if err != nil {
			p.pos = start
			return s, p.errorf("index %q is not a number (quote keys: [\"key\"])", p.src[start:min(p.pos, len(p.src))])
		}
		s = step{index: n, isIdx: true}
	}
	p.space()
	if p.eof() || p.peek() != ']' {
		return s, p.errorf("[ is not closed")
	}
	p.pos++
	return s, nil
}

// String renders the path for error messages.
func (pt path) String() string {
	var b strings.Builder
	if pt.root {
		b.WriteString("$")
	}
	for i, s := range pt.steps {
		switch {
		case s.isIdx:
			fmt.Fprintf(&b, "[%d]", s.index)
		case strings.ContainsAny(s.key, keyStops):
			fmt.Fprintf(&b, "[%q]", s.key)
		default:
			if i > 0 || pt.root {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		}
	}
	if b.Len() == 0 {
		return "."
	}
	return b.String()
}

// scope is what paths resolve against: the record and the current element
// (the record itself outside Each).
type scope struct {
	record any
	elem   any
}

// lookup follows the path; ok is false when some step is missing.
func (pt path) lookup(sc scope) (any, bool) {
	v := sc.elem
	if pt.root {
		v = sc.record
	}
	for _, s := range pt.steps {
		switch x := v.(type) {
		case map[string]any:
			if s.isIdx {
				return nil, false
			}
			var ok bool
			if v, ok = x[s.key]; !ok {
				return nil, false
			}
		case []any:
			if !s.isIdx {
				return nil, false
			}
			i := s.index
			if i < 0 {
				i += len(x)
			}
			if i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// errNotText is returned when a path ends at an object or a list of objects.
var errNotText = errors.New("is not text")

// textOf renders a raw value as text: strings as they are, numbers and
// booleans formatted, a list of scalars joined by newlines (empty ones
// skipped), null as "". Objects are not text.
func textOf(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return "", fmt.Errorf("%w: a list of objects or lists", errNotText)
			}
			s, _ := textOf(e)
			if s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "\n"), nil
	case map[string]any:
		return "", fmt.Errorf("%w: an object", errNotText)
	default:
		return fmt.Sprint(x), nil
	}
}

// eval gives the expression's text: the first alternative whose value is
// non-empty (the last alternative's error if none is).
func (e *expr) eval(sc scope) (string, error) {
	var firstErr error
	for _, a := range e.alts {
		s, err := a.eval(sc)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if s != "" {
			return s, nil
		}
	}
	return "", firstErr
}

func (c *concat) eval(sc scope) (string, error) {
	type piece struct {
		s     string
		isLit bool
	}
	pieces := make([]piece, 0, len(c.terms))
	anyPath := false
	for _, t := range c.terms {
		switch {
		case t.isLit:
			pieces = append(pieces, piece{s: t.lit, isLit: true})
		case t.nested != nil:
			s, err := t.nested.eval(sc)
			if err != nil {
				return "", err
			}
			pieces = append(pieces, piece{s: s})
			anyPath = true
		default:
			v, _ := t.path.lookup(sc)
			s, err := textOf(v)
			if err != nil {
				return "", fmt.Errorf("%s %w", t.path, err)
			}
			pieces = append(pieces, piece{s: s})
			anyPath = true
		}
	}
	if !anyPath {
		var b strings.Builder
		for _, p := range pieces {
			b.WriteString(p.s)
		}
		return b.String(), nil
	}
	if c.dedup {
		// Drop a path value that the next non-empty path value starts with,
		// with the glue between them.
		for i := range pieces {
			if pieces[i].isLit || pieces[i].s == "" {
				continue
			}
			for j := i + 1; j < len(pieces); j++ {
				if pieces[j].isLit || pieces[j].s == "" {
					continue
				}
				if strings.HasPrefix(pieces[j].s, pieces[i].s) {
					pieces[i].s = ""
				}
				break
			}
		}
	}
	first, last := -1, -1
	for i, p := range pieces {
		if !p.isLit && p.s != "" {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return "", nil
	}
	var b strings.Builder
	// Leading glue: literals before the first path term.
	for i := 0; i < len(pieces) && pieces[i].isLit; i++ {
		b.WriteString(pieces[i].s)
	}
	for i := first; i <= last; i++ {
		if pieces[i].isLit || pieces[i].s == "" {
			continue
		}
		if i > first {
			// Glue: the literals right before this path term.
			j := i
			for j > 0 && pieces[j-1].isLit {
				j--
			}
			for ; j < i; j++ {
				b.WriteString(pieces[j].s)
			}
		}
		b.WriteString(pieces[i].s)
	}
	// Trailing glue: literals after the last path term.
	lastPath := len(pieces) - 1
	for lastPath >= 0 && pieces[lastPath].isLit {
		lastPath--
	}
	for i := lastPath + 1; i < len(pieces); i++ {
		b.WriteString(pieces[i].s)
	}
	return b.String(), nil
}

// paths lists every path the expression reads.
func (e *expr) paths() []path {
	var out []path
	var walk func(c *concat)
	walk = func(c *concat) {
		for _, t := range c.terms {
			switch {
			case t.nested != nil:
				walk(t.nested)
			case !t.isLit:
				out = append(out, t.path)
			}
		}
	}
	for i := range e.alts {
		walk(&e.alts[i])
	}
	return out
}
