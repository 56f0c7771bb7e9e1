package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// roleSkip, as a value of turns.roles, marks a speaker whose lines are not
// turns (MedDialog's "预约医生：" header); they are kept in the row's meta
// under "skipped_turns" instead.
const roleSkip = "skip"

// defaultMarkers are the speakers a string of turns is split on when
// turns.roles names none: the patient and doctor names of Chinese medical
// dialogue corpora and the speaker tags of chat formats.
var defaultMarkers = map[string]string{
	"患者": schemas.RoleUser, "病人": schemas.RoleUser, "用户": schemas.RoleUser,
	"user": schemas.RoleUser, "human": schemas.RoleUser,
	"医生": schemas.RoleAssistant, "大夫": schemas.RoleAssistant,
	"bot": schemas.RoleAssistant, "assistant": schemas.RoleAssistant, "gpt": schemas.RoleAssistant,
}

// turnsMapper is a compiled TurnsMapping.
type turnsMapper struct {
	path          *path
	role, content *path
	roles         map[string]string // speaker names of turn objects
	markers       []speaker         // speaker markers in strings, longest first
	alternate     string            // first role of a list of plain strings
	preamble      string            // role of text before a string's first marker; "" decides
	system        *expr
	fixed         []fixedTurn
}

type fixedTurn struct {
	role    string
	content *expr
}

// speaker is one speaker marker: its name, as turns.roles or the defaults
// spell it, and its role.
type speaker struct {
	name, role string
}

func compileTurns(t *TurnsMapping, compile func(key, src string) (*expr, error), use func(path)) (*turnsMapper, error) {
	tm := &turnsMapper{roles: map[string]string{}}
	markers := t.Roles
	if len(markers) == 0 {
		markers = defaultMarkers
	}
	for _, name := range sortedKeys(t.Roles) {
		switch role := t.Roles[name]; role {
		case schemas.RoleUser, schemas.RoleAssistant, schemas.RoleSystem, roleSkip:
			tm.roles[name] = role
		default:
			return nil, fmt.Errorf("roles.%s: %q is not user, assistant, system or skip", name, role)
		}
	}
	for _, name := range sortedKeys(markers) {
		if strings.TrimSpace(name) == "" {
			return nil, errors.New("roles: a speaker name is empty")
		}
		tm.markers = append(tm.markers, speaker{name: name, role: markers[name]})
	}
	// Longest first, then by name, so "病人家属" wins over "病人".
	slices.SortFunc(tm.markers, func(a, b speaker) int {
		if len(a.name) != len(b.name) {
			return len(b.name) - len(a.name)
		}
		return strings.Compare(a.name, b.name)
	})
	switch t.Alternate {
	case "", schemas.RoleUser, schemas.RoleAssistant:
	default:
		return nil, fmt.Errorf("alternate: %q is not user or assistant", t.Alternate)
	}
	switch t.Preamble {
	case "", schemas.RoleUser, schemas.RoleAssistant, schemas.RoleSystem, roleSkip:
	default:
		return nil, fmt.Errorf("preamble: %q is not user, assistant, system or skip", t.Preamble)
	}
	tm.alternate, tm.preamble = t.Alternate, t.Preamble
	if t.Path == "" && len(t.Fixed) == 0 {
		return nil, errors.New("give path, fixed or both")
	}
	if t.Path != "" {
		pt, err := singlePath(t.Path)
		if err != nil {
			return nil, fmt.Errorf("path: %w", err)
		}
		use(pt)
		tm.path = &pt
		if t.Role != "" || t.Content != "" {
			if t.Role == "" || t.Content == "" {
				return nil, errors.New("give both role and content for turn objects")
			}
			r, err := singlePath(t.Role)
			if err != nil {
				return nil, fmt.Errorf("role: %w", err)
			}
			c, err := singlePath(t.Content)
			if err != nil {
				return nil, fmt.Errorf("content: %w", err)
			}
			tm.role, tm.content = &r, &c
		}
	} else if t.Role != "" || t.Content != "" || t.Alternate != "" || t.Preamble != "" {
		return nil, errors.New("role, content, alternate and preamble describe turns.path, which is not given")
	}
	for i, f := range t.Fixed {
		switch f.Role {
		case schemas.RoleUser, schemas.RoleAssistant, schemas.RoleSystem:
		default:
			return nil, fmt.Errorf("fixed[%d].role: %q is not user, assistant or system", i, f.Role)
		}
		e, err := compile(fmt.Sprintf("turns.fixed[%d].content", i), f.Content)
		if err != nil {
			return nil, err
		}
		tm.fixed = append(tm.fixed, fixedTurn{role: f.Role, content: e})
	}
	if t.System != "" {
		e, err := compile("turns.system", t.System)
		if err != nil {
			return nil, err
		}
		tm.system = e
	}
	return tm, nil
}

// build makes the turns of one record: the system turn, then the turns
// under path, then the fixed ones. Skipped speakers go to meta.
func (tm *turnsMapper) build(sc scope, meta map[string]any) ([]schemas.Turn, error) {
	var turns []schemas.Turn
	if tm.system != nil {
		s, err := tm.system.eval(sc)
		if err != nil {
			return nil, fmt.Errorf("turns.system: %w", err)
		}
		if strings.TrimSpace(s) != "" {
			turns = append(turns, schemas.Turn{Role: schemas.RoleSystem, Content: s})
		}
	}
	if tm.path != nil {
		var err error
		if turns, err = tm.pathTurns(sc, meta, turns); err != nil {
			return nil, err
		}
	}
	for i, f := range tm.fixed {
		s, err := f.content.eval(sc)
		if err != nil {
			return nil, fmt.Errorf("turns.fixed[%d]: %w", i, err)
		}
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("turns.fixed[%d] (%s): %s is empty or missing", i, f.role, f.content.src)
		}
		turns = append(turns, schemas.Turn{Role: f.role, Content: s})
	}
	return turns, nil
}

// pathTurns reads the turns under path: a list of turn objects, of [user,
// assistant] pairs, of strings, or one string of marked turns. Beside fixed
// turns, a missing path is a conversation with no earlier turns.
func (tm *turnsMapper) pathTurns(sc scope, meta map[string]any, turns []schemas.Turn) ([]schemas.Turn, error) {
	v, ok := tm.path.lookup(sc)
	if !ok || v == nil {
		if tm.fixed != nil {
			return turns, nil
		}
		return nil, fmt.Errorf("turns: %s is missing", tm.path)
	}
	if s, isString := v.(string); isString {
		return tm.stringTurns(s, meta, turns)
	}
	list, isList := v.([]any)
	if !isList {
		return nil, fmt.Errorf("turns: %s is not a list or a string", tm.path)
	}
	for i, el := range list {
		var err error
		switch x := el.(type) {
		case map[string]any:
			if tm.role == nil {
				return nil, fmt.Errorf("turns: %s[%d] is an object; map turns.role and turns.content", tm.path, i)
			}
			var role, content string
			if role, content, err = tm.objectTurn(sc, x); err != nil {
				return nil, fmt.Errorf("turns: %s[%d]%w", tm.path, i, err)
			}
			if role == roleSkip {
				skip(meta, el)
			} else if strings.TrimSpace(content) != "" { // an empty utterance is not a turn
				turns = append(turns, schemas.Turn{Role: role, Content: content})
			}
		case []any:
			if len(x) != 2 {
				return nil, fmt.Errorf("turns: %s[%d] is a list of %d, not a [user, assistant] pair", tm.path, i, len(x))
			}
			for j, role := range []string{schemas.RoleUser, schemas.RoleAssistant} {
				s, err := textOf(x[j])
				if err != nil {
					return nil, fmt.Errorf("turns: %s[%d][%d] %w", tm.path, i, j, err)
				}
				if strings.TrimSpace(s) != "" {
					turns = append(turns, schemas.Turn{Role: role, Content: s})
				}
			}
		case string:
			if tm.alternate != "" {
				role := tm.alternate
				if i%2 == 1 {
					role = otherRole(role)
				}
				if strings.TrimSpace(x) != "" {
					turns = append(turns, schemas.Turn{Role: role, Content: x})
				}
				continue
			}
			if turns, err = tm.stringTurns(x, meta, turns); err != nil {
				return nil, fmt.Errorf("turns: %s[%d]: %w", tm.path, i, err)
			}
		default:
			return nil, fmt.Errorf("turns: %s[%d] is neither a turn object, a pair nor a string", tm.path, i)
		}
	}
	return turns, nil
}

func otherRole(role string) string {
	if role == schemas.RoleUser {
		return schemas.RoleAssistant
	}
	return schemas.RoleUser
}

func skip(meta map[string]any, v any) {
	skipped, _ := meta["skipped_turns"].([]any)
	meta["skipped_turns"] = append(skipped, v)
}

// objectTurn reads {"from": …, "value": …}; errors start with ": " or " ".
func (tm *turnsMapper) objectTurn(sc scope, x map[string]any) (role, content string, err error) {
	rv, _ := tm.role.lookup(scope{record: sc.record, elem: x})
	name, err := textOf(rv)
	if err != nil {
		return "", "", fmt.Errorf(" role %w", err)
	}
	if role, err = tm.roleOf(name); err != nil {
		return "", "", fmt.Errorf(": %w", err)
	}
	cv, _ := tm.content.lookup(scope{record: sc.record, elem: x})
	if content, err = textOf(cv); err != nil {
		return "", "", fmt.Errorf(" content %w", err)
	}
	return role, content, nil
}

// roleOf maps a speaker name to a role; with no roles map only the
// canonical names are accepted.
func (tm *turnsMapper) roleOf(name string) (string, error) {
	if len(tm.roles) == 0 {
		switch name {
		case schemas.RoleUser, schemas.RoleAssistant, schemas.RoleSystem:
			return name, nil
		}
		return "", fmt.Errorf("role %q is not user, assistant or system (map it with turns.roles)", name)
	}
	if r, ok := tm.roles[name]; ok {
		return r, nil
	}
	return "", fmt.Errorf("role %q is not in turns.roles (%s)", name, strings.Join(sortedKeys(tm.roles), ", "))
}

// segment is one speaker's stretch of a string of turns.
type segment struct {
	role string
	text string // without the marker, trimmed
	raw  string // with the marker, for meta
}

// stringTurns splits a string on speaker markers and appends its turns:
// consecutive stretches of one speaker are merged, empty ones dropped, and
// skipped speakers go to meta. Text before the first marker takes the
// preamble role: turns.preamble when set, else user when the first marker
// is the assistant's (the patient's words came unmarked), else skip. A
// string with text and no marker at all fails the record, unless
// turns.preamble says whose it is.
func (tm *turnsMapper) stringTurns(s string, meta map[string]any, turns []schemas.Turn) ([]schemas.Turn, error) {
	pre, segs := splitSpeakers(s, tm.markers)
	if pre != "" {
		role := tm.preamble
		switch {
		case role != "":
		case len(segs) == 0:
			return nil, fmt.Errorf("%q has no speaker marker such as %s (a name of turns.roles and a colon, or <name>)", Truncate(s, 60), markerNames(tm.markers))
		case segs[0].role == schemas.RoleAssistant:
			role = schemas.RoleUser
		default:
			role = roleSkip
		}
		segs = slices.Insert(segs, 0, segment{role: role, text: pre, raw: pre})
	}
	first := len(turns)
	for _, sg := range segs {
		switch {
		case sg.role == roleSkip:
			skip(meta, sg.raw)
		case sg.text == "":
		case len(turns) > first && turns[len(turns)-1].Role == sg.role:
			turns[len(turns)-1].Content += "\n" + sg.text
		default:
			turns = append(turns, schemas.Turn{Role: sg.role, Content: sg.text})
		}
	}
	return turns, nil
}

func markerNames(ms []speaker) string {
	names := make([]string, 0, len(ms))
	for _, m := range ms {
		names = append(names, m.name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// splitSpeakers cuts s at speaker markers. A marker is a speaker name
// followed by a colon (full- or half-width, spaces allowed before it), or a
// name in angle or square brackets with or without a colon: "患者：",
// "医生:", "<user>:", "<bot>", "【医生】". ASCII names match in any case. An
// unbracketed name counts only at the start, after white space or after
// sentence punctuation (。！？；，… and closing quotes), so "我问了医生：" inside a
// turn and "superuser:" are no markers. pre is the trimmed text before the
// first marker.
func splitSpeakers(s string, markers []speaker) (pre string, segs []segment) {
	type hit struct {
		start, end int
		role       string
	}
	var hits []hit
	prev := rune(-1)
	for i := 0; i < len(s); {
		if role, n := markerAt(s[i:], markers, prev); n > 0 {
			hits = append(hits, hit{i, i + n, role})
			i += n
			prev = ':'
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		prev = r
		i += size
	}
	if len(hits) == 0 {
		return strings.TrimSpace(s), nil
	}
	pre = strings.TrimSpace(s[:hits[0].start])
	for k, h := range hits {
		end := len(s)
		if k+1 < len(hits) {
			end = hits[k+1].start
		}
		segs = append(segs, segment{role: h.role, text: strings.TrimSpace(s[h.end:end]), raw: strings.TrimSpace(s[h.start:end])})
	}
	return pre, segs
}

// markerBoundary is what may come right before an unbracketed marker.
func markerBoundary(r rune) bool {
	return r < 0 || unicode.IsSpace(r) || strings.ContainsRune("。！？!?.；;，,…~～」』”\"’)）]】>:：", r)
}

// markerAt gives the role and length of a speaker marker at the start of
// s, with the white space after it; 0 if there is none.
func markerAt(s string, markers []speaker, prev rune) (string, int) {
	open, close := "", ""
	for _, b := range [][2]string{{"<", ">"}, {"[", "]"}, {"【", "】"}} {
		if strings.HasPrefix(s, b[0]) {
			open, close = b[0], b[1]
			break
		}
	}
	if open == "" && !markerBoundary(prev) {
		return "", 0
	}
	rest := s[len(open):]
	for _, m := range markers {
		if len(rest) < len(m.name) || !strings.EqualFold(rest[:len(m.name)], m.name) {
			continue
		}
		after := rest[len(m.name):]
		bracketed := false
		if open != "" {
			var ok bool
			if after, ok = strings.CutPrefix(after, close); !ok {
				continue
			}
			bracketed = true
		}
		t := strings.TrimLeft(after, " \t")
		if c, ok := cutColon(t); ok {
			after = c
		} else if !bracketed {
			continue
		}
		after = strings.TrimLeftFunc(after, unicode.IsSpace)
		return m.role, len(s) - len(after)
	}
	return "", 0
}

func cutColon(s string) (string, bool) {
	if a, ok := strings.CutPrefix(s, "："); ok {
		return a, true
	}
	return strings.CutPrefix(s, ":")
}
