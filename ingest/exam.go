package ingest

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// How an exam record's answer names its options (Mapping.AnswerIs).
const (
	AnswerLabel  = "label"  // "C", "ABD", "a, b": option letters
	AnswerKey    = "key"    // "opb": the option's column or object key
	AnswerText   = "text"   // "出血量": the option's text
	AnswerIndex0 = "index0" // 2: the option's position from 0 (MedMCQA cop)
	AnswerIndex1 = "index1" // 3: the option's position from 1
)

var answerModes = []string{AnswerLabel, AnswerKey, AnswerText, AnswerIndex0, AnswerIndex1}

// examOption is an option with the name the raw record gave it: the
// column or object key it came from (its label for a labelled cell).
type examOption struct {
	schemas.Option
	key string
}

// optionLabel matches a labelled option at the start of a line: "A 原发病",
// "B. 出血部位", "C、…", "D：…", "(E) …", "（F）…".
var optionLabel = regexp.MustCompile(`^\s*(?:[(（]([A-Za-z])[)）]\s*|([A-Za-z])(?:\s*[.．、:：)）]\s*|\s+|$))`)

// labelAt gives the label a labelled option starts with and where its text
// starts; ok is false for an unlabelled piece.
func labelAt(s string) (label string, text int, ok bool) {
	m := optionLabel.FindStringSubmatchIndex(s)
	if m == nil {
		return "", 0, false
	}
	if m[2] >= 0 {
		return strings.ToUpper(s[m[2]:m[3]]), m[1], true
	}
	return strings.ToUpper(s[m[4]:m[5]]), m[1], true
}

// build makes an exam question's options.
func (om *optionsMapper) build(sc scope) ([]examOption, error) {
	if om.columns != nil {
		var opts []examOption
		for i, c := range om.columns {
			v, _ := c.lookup(sc)
			s, err := textOf(v)
			if err != nil {
				return nil, fmt.Errorf("options: %s %w", c, err)
			}
			if strings.TrimSpace(s) == "" {
				continue // fewer options than columns
			}
			key := c.String()
			if n := len(c.steps); n > 0 && !c.steps[n-1].isIdx {
				key = c.steps[n-1].key
			}
			opts = append(opts, examOption{Option: schemas.Option{Label: labelOf(i), Text: strings.TrimSpace(s)}, key: key})
		}
		return opts, nil
	}
	v, ok := om.path.lookup(sc)
	if !ok || v == nil {
		return nil, fmt.Errorf("options: %s is missing", om.path)
	}
	switch x := v.(type) {
	case string:
		return parseOptionCell(x, om.separator)
	case []any:
		items := make([]string, 0, len(x))
		for i, e := range x {
			s, err := textOf(e)
			if err != nil {
				return nil, fmt.Errorf("options: %s[%d] %w", om.path, i, err)
			}
			items = append(items, s)
		}
		labelled := true
		for _, s := range items {
			if !optionLabel.MatchString(s) {
				labelled = false
			}
		}
		if labelled {
			return parseOptionCell(strings.Join(items, "\n"), "\n")
		}
		opts := make([]examOption, 0, len(items))
		for i, s := range items {
			if i >= 26 {
				return nil, fmt.Errorf("options: %s has %d options, more than A–Z can label", om.path, len(items))
			}
			opts = append(opts, examOption{Option: schemas.Option{Label: labelOf(i), Text: strings.TrimSpace(s)}, key: strconv.Itoa(i)})
		}
		return opts, nil
	case map[string]any:
		return objectOptions(x, *om.path)
	}
	return nil, fmt.Errorf("options: %s is not text, a list or an object", om.path)
}

// labelOf is the i-th option letter.
func labelOf(i int) string { return string(rune('A' + i)) }

// objectOptions reads {"A": …, "B": …} (CMB) as labelled options, and an
// object with other keys ({"opa": …}, {"option1": …}) as options lettered
// A, B, C… in the natural order of its keys, since JSON objects keep none.
func objectOptions(x map[string]any, at path) ([]examOption, error) {
	keys := make([]string, 0, len(x))
	letters := true
	for k := range x {
		keys = append(keys, k)
		t := strings.TrimSpace(k)
		if len(t) != 1 || !('A' <= t[0] && t[0] <= 'Z' || 'a' <= t[0] && t[0] <= 'z') {
			letters = false
		}
	}
	slices.SortFunc(keys, naturalCompare)
	if letters {
		slices.SortFunc(keys, func(a, b string) int {
			return cmp.Compare(strings.ToUpper(strings.TrimSpace(a)), strings.ToUpper(strings.TrimSpace(b)))
		})
	} else if len(keys) > 26 {
		return nil, fmt.Errorf("options: %s has %d keys, more than A–Z can label", at, len(keys))
	}
	var opts []examOption
	seen := map[string]bool{}
	for i, k := range keys {
		s, err := textOf(x[k])
		if err != nil {
			return nil, fmt.Errorf("options: %s.%s %w", at, k, err)
		}
		label := labelOf(i)
		if letters {
			label = strings.ToUpper(strings.TrimSpace(k))
			if seen[label] {
				return nil, fmt.Errorf("options: %s has keys %q in two cases", at, label)
			}
			seen[label] = true
		}
		if strings.TrimSpace(s) != "" {
			opts = append(opts, examOption{Option: schemas.Option{Label: label, Text: strings.TrimSpace(s)}, key: k})
		}
	}
	return opts, nil
}

// naturalCompare orders strings with their digit runs as numbers, so that
// "option2" comes before "option10".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), cmp.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(ra, rb); c != 0 {
			return c
		}
		a, b = a[sa:], b[sb:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	return n
}

// parseOptionCell splits one cell of labelled options: one a line ("A
// 原发病\nB 出血部位", or split on sep), a piece without a label continuing
// the option before it. A cell that gives fewer than two options that way
// is read as one line of inline markers ("A. 原发病 B. 出血部位",
// "(A)原发病(B)出血部位").
func parseOptionCell(cell, sep string) ([]examOption, error) {
	opts, err := labelledPieces(cell, sep)
	if len(opts) < 2 {
		if inline := inlineOptions(cell); len(inline) >= 2 {
			return inline, nil
		}
	}
	return opts, err
}

func labelledPieces(cell, sep string) ([]examOption, error) {
	var opts []examOption
	seen := map[string]bool{}
	for _, piece := range strings.Split(cell, sep) {
		if strings.TrimSpace(piece) == "" {
			continue
		}
		label, text, ok := labelAt(piece)
		if !ok {
			if len(opts) == 0 {
				return nil, fmt.Errorf("options: %q does not start with a label such as \"A \"", Truncate(piece, 60))
			}
			opts[len(opts)-1].Text += "\n" + strings.TrimSpace(piece)
			continue
		}
		if seen[label] {
			return nil, fmt.Errorf("options: label %s appears twice", label)
		}
		seen[label] = true
		opts = append(opts, examOption{Option: schemas.Option{Label: label, Text: strings.TrimSpace(piece[text:])}, key: label})
	}
	return opts, nil
}

// inlineOptions reads options marked inside one line: the cell starts with
// the marker of A, and each next letter's marker, in order, ends the option
// before it. A marker is "(B)" or "（B）" anywhere, or "B." "B、" "B:" "B："
// "B)" after the start, a space or a separator (；;，,。|/), so that
// "维生素B." is no marker. It gives nothing when the cell does not start so.
func inlineOptions(cell string) []examOption {
	s := strings.TrimSpace(cell)
	if s == "" {
		return nil
	}
	base := 'A'
	if 'a' <= s[0] && s[0] <= 'z' {
		base = 'a'
	}
	type mark struct{ start, end int }
	var marks []mark
	prev := rune(-1) // start of the cell
	for i := 0; i < len(s) && len(marks) < 26; {
		want := base + rune(len(marks))
		if n := optionMarkerAt(s[i:], want, prev); n > 0 && (len(marks) > 0 || i == 0) {
			marks = append(marks, mark{i, i + n})
			i += n
			prev = ' '
			continue
		}
		if len(marks) == 0 {
			return nil
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		prev = r
		i += size
	}
	var opts []examOption
	for k, m := range marks {
		end := len(s)
		if k+1 < len(marks) {
			end = marks[k+1].start
		}
		text := strings.TrimFunc(s[m.end:end], func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune("；;，,|/", r) })
		if text == "" {
			return nil // "A. B. C." is no list of options
		}
		label := labelOf(k)
		opts = append(opts, examOption{Option: schemas.Option{Label: label, Text: text}, key: label})
	}
	return opts
}

// optionMarkerAt gives the length of the marker of option letter want at
// the start of s, 0 if there is none; prev is the rune before it (-1 at
// the start of the cell).
func optionMarkerAt(s string, want, prev rune) int {
	for _, open := range []string{"(", "（"} {
		if rest, ok := strings.CutPrefix(s, open); ok && strings.HasPrefix(rest, string(want)) {
			rest = rest[1:]
			for _, closing := range []string{")", "）"} {
				if after, ok := strings.CutPrefix(rest, closing); ok {
					return len(s) - len(strings.TrimLeftFunc(after, unicode.IsSpace))
				}
			}
		}
	}
	if !strings.HasPrefix(s, string(want)) || !(prev < 0 || unicode.IsSpace(prev) || strings.ContainsRune("；;，,。|/", prev)) {
		return 0
	}
	rest := strings.TrimLeft(s[1:], " \t")
	for _, p := range []string{".", "．", "、", ":", "：", ")", "）"} {
		if after, ok := strings.CutPrefix(rest, p); ok {
			return len(s) - len(strings.TrimLeftFunc(after, unicode.IsSpace))
		}
	}
	return 0
}

// decimal is a number as an index answer is written: 2, "2", "2.0".
var decimal = regexp.MustCompile(`^[+-]?[0-9]+(?:\.[0-9]+)?$`)

// answerParts splits a multi-option answer ("A, C", "opa;opc", "0 2").
func answerParts(ans string) []string {
	return strings.FieldsFunc(ans, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",，、;；|/", r)
	})
}

// resolveAnswer turns a raw answer into option labels ("C", "ABD") the way
// mode says (AnswerLabel, AnswerKey, …), or sniffs the way when mode is "":
// option letters first, then option keys, then one option's text ("B.
// 出血量" too). A bare number is no letter, key or text and is not
// sniffed: 1 is the second option from 0 and the first from 1, so only
// answer_is can say.
func resolveAnswer(ans string, opts []examOption, mode string) (string, error) {
	switch mode {
	case AnswerLabel:
		return answerLabels(ans, opts)
	case AnswerKey:
		return answerKeys(ans, opts)
	case AnswerText:
		return answerText(ans, opts, true)
	case AnswerIndex0:
		return answerIndex(ans, opts, 0)
	case AnswerIndex1:
		return answerIndex(ans, opts, 1)
	}
	labels, err := answerLabels(ans, opts)
	if err == nil {
		return labels, nil
	}
	if l, kerr := answerKeys(ans, opts); kerr == nil {
		return l, nil
	}
	if l, terr := answerText(ans, opts, false); terr == nil {
		return l, nil
	}
	if label, at, ok := labelAt(ans); ok {
		for _, o := range opts {
			if o.Label == label && sameText(ans[at:], o.Text) {
				return label, nil
			}
		}
	}
	if parts := answerParts(ans); len(parts) > 0 {
		if decimal.MatchString(parts[0]) {
			return "", fmt.Errorf("answer %q is a number: set map.answer_is to index0 or index1", ans)
		}
	}
	return "", fmt.Errorf("%w (nor an option's key or text; map.answer_is says how answers name options)", err)
}

// answerLabels turns "C", "a, b", "A、B、D" into "C", "AB", "ABD" and
// checks every label is one of the options.
func answerLabels(ans string, opts []examOption) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(ans) {
		switch {
		case unicode.IsSpace(r) || strings.ContainsRune(",，、;；", r):
			continue
		case !slices.ContainsFunc(opts, func(o examOption) bool { return o.Label == string(r) }):
			return "", fmt.Errorf("answer %q: %q is not an option label (options: %s)", ans, string(r), optionLabels(opts))
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("answer %q names no option", ans)
	}
	return b.String(), nil
}

// answerKeys reads "opb" or "opa,opc": the keys of the options meant.
func answerKeys(ans string, opts []examOption) (string, error) {
	parts := answerParts(ans)
	if len(parts) == 0 {
		return "", fmt.Errorf("answer %q names no option", ans)
	}
	var labels []string
	for _, p := range parts {
		i := slices.IndexFunc(opts, func(o examOption) bool { return strings.EqualFold(strings.TrimSpace(o.key), p) })
		if i < 0 {
			keys := make([]string, len(opts))
			for j, o := range opts {
				keys[j] = o.key
			}
			return "", fmt.Errorf("answer %q: %q is not an option key (keys: %s)", ans, p, strings.Join(keys, ", "))
		}
		labels = append(labels, opts[i].Label)
	}
	return joinLabels(labels), nil
}

// answerText finds the one option whose text the answer is; with split, an
// answer that is no option's text may list several, separated by ; | or a
// newline, then by commas.
func answerText(ans string, opts []examOption, split bool) (string, error) {
	label, err := oneText(ans, opts)
	if err == nil || !split {
		return label, err
	}
	for _, seps := range []string{"\n;；|", "\n;；|,，、"} {
		parts := strings.FieldsFunc(ans, func(r rune) bool { return strings.ContainsRune(seps, r) })
		if len(parts) < 2 {
			continue
		}
		var labels []string
		ok := true
		for _, p := range parts {
			l, perr := oneText(p, opts)
			if perr != nil {
				ok = false
				break
			}
			labels = append(labels, l)
		}
		if ok {
			return joinLabels(labels), nil
		}
	}
	return "", err
}

func oneText(ans string, opts []examOption) (string, error) {
	var found []string
	for _, o := range opts {
		if sameText(ans, o.Text) {
			found = append(found, o.Label)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("answer %q is the text of no option", Truncate(ans, 60))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("answer %q is the text of options %s alike", Truncate(ans, 60), strings.Join(found, ", "))
}

// sameText compares option texts ignoring case and runs of white space.
func sameText(a, b string) bool {
	a, b = strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " ")
	return a != "" && strings.EqualFold(a, b)
}

// answerIndex reads "2" or "0, 2" as option positions counted from base;
// position i is the i-th option column or list element (letter A+i), so an
// empty column that gave no option does not shift the others.
func answerIndex(ans string, opts []examOption, base int) (string, error) {
	parts := answerParts(ans)
	if len(parts) == 0 {
		return "", fmt.Errorf("answer %q names no option", ans)
	}
	var labels []string
	for _, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !decimal.MatchString(p) || f != math.Trunc(f) {
			return "", fmt.Errorf("answer %q: %q is not an option number from %d", ans, p, base)
		}
		i := f - float64(base)
		if i < 0 || i >= 26 {
			return "", fmt.Errorf("answer %q: %s is no option number from %d (options: %s)", ans, p, base, optionLabels(opts))
		}
		label := labelOf(int(i))
		if !slices.ContainsFunc(opts, func(o examOption) bool { return o.Label == label }) {
			return "", fmt.Errorf("answer %q: option %s (%s from %d) is not among the options (%s)", ans, label, p, base, optionLabels(opts))
		}
		labels = append(labels, label)
	}
	return joinLabels(labels), nil
}

// joinLabels sorts and deduplicates labels into one answer ("CA" → "AC").
func joinLabels(labels []string) string {
	slices.Sort(labels)
	return strings.Join(slices.Compact(labels), "")
}

func optionLabels(opts []examOption) string {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString(o.Label)
	}
	return b.String()
}

// plainOptions drops the keys once the answer is resolved.
func plainOptions(opts []examOption) []schemas.Option {
	out := make([]schemas.Option, len(opts))
	for i, o := range opts {
		out[i] = o.Option
	}
	return out
}
