// Package trainer trains a small decoder-only transformer with gomlx through
// DCPT, SFT and DPO on the stage files, and evaluates it.
package trainer

// Config is the `train:` section of chimed.yaml.
type Config struct{}

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error { return nil }
