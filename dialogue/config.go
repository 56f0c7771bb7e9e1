// Package dialogue shapes clean doctor–patient dialogues for training: role
// mapping, merged and trimmed turns, over-long dialogues split at turn
// boundaries.
package dialogue

import (
	"fmt"
	"sort"

	"github.com/chimed/chimed/schemas"
)

// Config is the `dialogue:` section of chimed.yaml.
type Config struct {
	// Roles adds speaker names to the built-in role map (病人/患者/用户 →
	// user, 医生/大夫 → assistant, …); each value is user, assistant or
	// system. Names are matched after trimming and lower-casing.
	Roles map[string]string `yaml:"roles"`
	// MaxTurns caps the turns of one training dialogue (default 16, system
	// turn not counted); a longer one is split at a user turn.
	MaxTurns int `yaml:"max_turns"`
	// MaxChars caps the characters of one training dialogue (default 4096);
	// a longer one is split at a user turn. One exchange longer than this
	// is kept whole, since a turn is never cut.
	MaxChars int `yaml:"max_chars"`
}

// Defaults used when chimed.yaml leaves a key out.
const (
	DefaultMaxTurns = 16
	DefaultMaxChars = 4096
)

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error {
	if c.MaxTurns < 0 || c.MaxTurns == 1 {
		return fmt.Errorf("max_turns: %d is too small (want at least 2, or 0 for the default %d)", c.MaxTurns, DefaultMaxTurns)
	}
	if c.MaxChars < 0 {
		return fmt.Errorf("max_chars: %d is negative", c.MaxChars)
	}
	names := make([]string, 0, len(c.Roles))
	for k := range c.Roles {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch c.Roles[k] {
		case schemas.RoleUser, schemas.RoleAssistant, schemas.RoleSystem:
		default:
			return fmt.Errorf("roles[%s]: %q is not user, assistant or system", k, c.Roles[k])
		}
	}
	return nil
}

func (c *Config) maxTurns() int {
	if c.MaxTurns == 0 {
		return DefaultMaxTurns
	}
	return c.MaxTurns
}

func (c *Config) maxChars() int {
	if c.MaxChars == 0 {
		return DefaultMaxChars
	}
	return c.MaxChars
}
