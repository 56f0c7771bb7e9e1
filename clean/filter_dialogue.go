package clean

import (
	"strings"

	"github.com/chimed/chimed/schemas"
)

// dialogueRolesFilter removes dialogues that lack a user turn or an
// assistant turn with text: without both there is nothing to learn a reply
// from.
// Reason: "missing_role"; the detail names the missing role.
type dialogueRolesFilter struct{}

func init() {
	register("dialogue_roles", []schemas.Kind{schemas.KindDialogue}, func(func(any) error) (any, error) {
		return dialogueRolesFilter{}, nil
	})
}

// Check implements Filter.
func (dialogueRolesFilter) Check(r schemas.Record) (string, string) {
	d, ok := r.(*schemas.Dialogue)
	if !ok {
		return "", ""
	}
	user, assistant := false, false
	for _, t := range d.Turns {
		if strings.TrimSpace(t.Content) == "" {
			continue
		}
		switch t.Role {
		case schemas.RoleUser:
			user = true
		case schemas.RoleAssistant:
			assistant = true
		}
	}
	switch {
	case !user:
		return "missing_role", schemas.RoleUser
	case !assistant:
		return "missing_role", schemas.RoleAssistant
	}
	return "", ""
}
