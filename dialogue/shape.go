package dialogue

import (
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// ReasonNoExchange is why a dialogue gives no training row: after mapping,
// merging and trimming it has no user turn followed by an assistant turn.
const ReasonNoExchange = "dialogue_no_exchange"

// builtinRoles maps the speaker names of the public dialogue corpora.
var builtinRoles = map[string]string{
	"user": schemas.RoleUser, "human": schemas.RoleUser, "patient": schemas.RoleUser, "question": schemas.RoleUser,
	"病人": schemas.RoleUser, "患者": schemas.RoleUser, "用户": schemas.RoleUser, "提问者": schemas.RoleUser,
	"问": schemas.RoleUser, "求助者": schemas.RoleUser,
	"assistant": schemas.RoleAssistant, "gpt": schemas.RoleAssistant, "bot": schemas.RoleAssistant,
	"doctor": schemas.RoleAssistant, "answer": schemas.RoleAssistant, "医生": schemas.RoleAssistant,
	"大夫": schemas.RoleAssistant, "答": schemas.RoleAssistant, "回答者": schemas.RoleAssistant,
	"system": schemas.RoleSystem, "系统": schemas.RoleSystem,
}

// Shaper turns a clean dialogue into training conversations.
type Shaper struct {
	roles    map[string]string
	maxTurns int
	maxChars int
}

// NewShaper builds a Shaper from the config (config roles win over built-in ones).
func NewShaper(cfg Config) *Shaper {
	s := &Shaper{roles: map[string]string{}, maxTurns: cfg.maxTurns(), maxChars: cfg.maxChars()}
	for k, v := range builtinRoles {
		s.roles[k] = v
	}
	for k, v := range cfg.Roles {
		s.roles[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return s
}

// Role maps a speaker name to user, assistant or system; ok is false for
// a name it does not know.
func (s *Shaper) Role(speaker string) (role string, ok bool) {
	role, ok = s.roles[strings.ToLower(strings.TrimSpace(speaker))]
	return role, ok
}

// Shape maps roles (a turn without a role that starts "病人：" takes the
// speaker's role), drops empty and unknown-speaker turns, merges
// consecutive turns of one role, trims the dialogue to start with a user
// turn and end with an assistant turn (a leading system turn is kept and
// repeated at the start of every part) and splits it at user turns into
// parts of at most MaxTurns turns and MaxChars characters. It returns the
// parts, or none and ReasonNoExchange.
func (s *Shaper) Shape(turns []schemas.Turn) ([][]schemas.Turn, string) {
	var system []string
	var body []schemas.Turn
	for _, t := range turns {
		role, ok := s.Role(t.Role)
		content := strings.TrimSpace(t.Content)
		if !ok && strings.TrimSpace(t.Role) == "" {
			role, content, ok = s.prefixed(content)
		}
		if !ok || content == "" {
			continue
		}
		if role == schemas.RoleSystem {
			if len(body) == 0 { // only a system turn before the conversation is an instruction
				system = append(system, content)
			}
			continue
		}
		if n := len(body); n > 0 && body[n-1].Role == role {
			body[n-1].Content += "\n" + content
			continue
		}
		body = append(body, schemas.Turn{Role: role, Content: content})
	}
	for len(body) > 0 && body[0].Role != schemas.RoleUser {
		body = body[1:]
	}
	for len(body) > 0 && body[len(body)-1].Role != schemas.RoleAssistant {
		body = body[:len(body)-1]
	}
	if len(body) < 2 {
		return nil, ReasonNoExchange
	}
	var head []schemas.Turn
	if len(system) > 0 {
		head = []schemas.Turn{{Role: schemas.RoleSystem, Content: strings.Join(system, "\n")}}
	}
	// body now alternates user, assistant, …, assistant: split between pairs.
	var parts [][]schemas.Turn
	var cur []schemas.Turn
	chars := 0
	for i := 0; i+1 < len(body); i += 2 {
		pair := body[i : i+2]
		n := utf8.RuneCountInString(pair[0].Content) + utf8.RuneCountInString(pair[1].Content)
		if len(cur) > 0 && (len(cur)+2 > s.maxTurns || chars+n > s.maxChars) {
			parts = append(parts, append(append([]schemas.Turn(nil), head...), cur...))
			cur, chars = nil, 0
		}
		cur = append(cur, pair...)
		chars += n
	}
	parts = append(parts, append(append([]schemas.Turn(nil), head...), cur...))
	return parts, ""
}

// prefixed reads a speaker prefix ("病人：…", "医生: …") off a turn that
// came without a role.
func (s *Shaper) prefixed(content string) (role, rest string, ok bool) {
	i := strings.IndexAny(content, ":：")
	if i <= 0 || i > 16 {
		return "", content, false
	}
	role, ok = s.Role(content[:i])
	_, size := utf8.DecodeRuneInString(content[i:])
	return role, strings.TrimSpace(content[i+size:]), ok
}
