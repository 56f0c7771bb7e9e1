package export

import (
	"strings"

	"github.com/chimed/chimed/schemas"
)

// ShareGPTTurn is one message in the ShareGPT layout both LLaMA-Factory and
// MedicalGPT read: {"from": "human"|"gpt"|"system", "value": text}.
type ShareGPTTurn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

// The ShareGPT role names (LLaMA-Factory's default tags: user_tag "human",
// assistant_tag "gpt", system_tag "system").
const (
	shareGPTHuman  = "human"
	shareGPTGPT    = "gpt"
	shareGPTSystem = "system"
)

// Reasons a chat is skipped; they key FileReport.Skipped.
const (
	skipNoExchange   = "chat has no user/assistant exchange"
	skipNotAlternate = "chat does not alternate user/assistant starting with user"
	skipOddTurns     = "chat does not end with an assistant turn"
	skipBadRole      = "chat has a turn with an unknown role"
	skipEmptyText    = "empty text"
	skipEmptyPair    = "empty prompt, chosen or rejected"
)

// shareGPT splits messages into an optional leading system prompt and the
// user/assistant turns that follow, checked the way LLaMA-Factory's
// SharegptDatasetConverter and MedicalGPT's supervised_finetuning.py check
// them: user on odd positions, assistant on even ones, an even count. It
// returns a skip reason for chats those tools would drop.
func shareGPT(msgs []schemas.Turn) (system string, turns []ShareGPTTurn, skip string) {
	if len(msgs) > 0 && msgs[0].Role == schemas.RoleSystem {
		system, msgs = msgs[0].Content, msgs[1:]
	}
	if len(msgs) < 2 {
		return "", nil, skipNoExchange
	}
	turns = make([]ShareGPTTurn, len(msgs))
	for i, m := range msgs {
		want := schemas.RoleUser
		from := shareGPTHuman
		if i%2 == 1 {
			want, from = schemas.RoleAssistant, shareGPTGPT
		}
		switch {
		case m.Role != schemas.RoleUser && m.Role != schemas.RoleAssistant && m.Role != schemas.RoleSystem:
			return "", nil, skipBadRole
		case m.Role != want:
			return "", nil, skipNotAlternate
		}
		turns[i] = ShareGPTTurn{From: from, Value: m.Content}
	}
	if len(turns)%2 != 0 {
		return "", nil, skipOddTurns
	}
	return system, turns, ""
}

// oneLine makes a document fit on one line of a text file read by HF
// datasets' "text" loader (MedicalGPT's pretraining.py uses it), which splits
// with Python's str.splitlines: every run of the characters that function
// breaks on (\n \r \v \f \x1c \x1d \x1e \x85 U+2028 U+2029), together with
// the spaces around it, becomes one space. Paragraph breaks are lost; the
// words are not. Hand-written: no library maps exactly Python's set.
func oneLine(s string) string {
	isBreak := func(r rune) bool {
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			return true
		}
		return false
	}
	if strings.IndexFunc(s, isBreak) < 0 {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	pendingBreak := false
	spaceStart := -1
	for i, r := range s {
		switch {
		case isBreak(r):
			pendingBreak, spaceStart = true, -1
		case r == ' ' || r == '\t' || r == 0x3000:
			if !pendingBreak && spaceStart < 0 {
				spaceStart = i
			}
		default:
			if pendingBreak {
				if b.Len() > 0 {
					b.WriteByte(' ')
				}
			} else if spaceStart >= 0 {
				b.WriteString(s[spaceStart:i])
			}
			pendingBreak, spaceStart = false, -1
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
