// Package stages builds the DCPT, SFT and DPO stage files and the held-out
// evaluation sets from clean records, with deterministic, leak-free splits.
package stages

// Config is the `stages:` section of chimed.yaml.
type Config struct{}

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error { return nil }
