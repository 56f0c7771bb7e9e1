// Package dialogue shapes clean doctor–patient dialogues for training: role
// mapping, merged and trimmed turns, over-long dialogues split at turn
// boundaries.
package dialogue

// Config is the `dialogue:` section of chimed.yaml.
type Config struct{}

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error { return nil }
