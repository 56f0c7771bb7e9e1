// Package kg turns clean knowledge-graph triples into training text:
// canonical relations, graph statistics, verbalised paragraphs for DCPT and
// question–answer pairs for SFT.
package kg

// Config is the `kg:` section of chimed.yaml.
type Config struct{}

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error { return nil }
