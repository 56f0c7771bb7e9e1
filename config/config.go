// Package config reads chimed.yaml once into typed structs and validates it,
// with errors that name the file, the line and the bad key. Each step's
// section is a type of that step's own package; this package only gathers
// them, so steps never read the YAML themselves.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/dialogue"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/kg"
	"github.com/chimed/chimed/stages"
	"github.com/chimed/chimed/trainer"
)

// FileName is the name of the configuration file in a workspace.
const FileName = "chimed.yaml"

// Config is the whole of chimed.yaml.
type Config struct {
	Version  int             `yaml:"version"`
	Seed     uint64          `yaml:"seed"`
	Sources  []ingest.Source `yaml:"sources"`
	Clean    clean.Config    `yaml:"clean"`
	KG       kg.Config       `yaml:"kg"`
	Dialogue dialogue.Config `yaml:"dialogue"`
	Stages   stages.Config   `yaml:"stages"`
	Train    trainer.Config  `yaml:"train"`

	// Hash is the sha256 of the file's bytes, recorded in manifests so a
	// stage file can be traced to the configuration that made it.
	Hash string `yaml:"-"`
	// Path is where the file was read from.
	Path string `yaml:"-"`
}

// Load reads and validates DIR/chimed.yaml.
func Load(workspace string) (*Config, error) {
	path := filepath.Join(workspace, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w (run `chimed demo -w %s` to make an example)", err, workspace)
	}
	return Parse(path, data)
}

// Parse decodes and validates configuration bytes; path is used in errors.
func Parse(path string, data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
	}
	sum := sha256.Sum256(data)
	c.Hash = hex.EncodeToString(sum[:])
	c.Path = path
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// Validate checks every section in the order chimed.yaml documents them,
// so a file with several mistakes always reports the same one first.
func (c *Config) Validate() error {
	if c.Version != 0 && c.Version != 1 {
		return fmt.Errorf("version: %d is not supported (want 1)", c.Version)
	}
	if len(c.Sources) == 0 {
		return fmt.Errorf("sources: none listed; every step starts from them: add one per raw dataset (name, kind, paths and a preset or a map; `chimed demo` writes an example)")
	}
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		if err := s.Validate(); err != nil {
			return err
		}
		if seen[s.Name] {
			return fmt.Errorf("sources[%s]: the name is used twice", s.Name)
		}
		seen[s.Name] = true
	}
	sections := []struct {
		name string
		v    interface{ Validate() error }
	}{{"clean", &c.Clean}, {"kg", &c.KG}, {"dialogue", &c.Dialogue}, {"stages", &c.Stages}, {"train", &c.Train}}
	for _, s := range sections {
		if err := s.v.Validate(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// EvalSources names the sources whose role is eval.
func (c *Config) EvalSources() map[string]bool {
	m := map[string]bool{}
	for _, s := range c.Sources {
		if s.IsEval() {
			m[s.Name] = true
		}
	}
	return m
}
