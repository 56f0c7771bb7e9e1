// Package clean turns normalized records into clean ones: normalisation,
// quality filters, PII masking, exact and near-duplicate removal and
// decontamination against the evaluation sets. Every removed row goes to
// removed/ with its reason, and reports/clean.json counts them.
package clean

// Config is the `clean:` section of chimed.yaml.
type Config struct{}

// Validate checks the section, naming any bad key.
func (c *Config) Validate() error { return nil }
