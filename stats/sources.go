package stats

import (
	"errors"
	"io/fs"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/ingest"
)

// SourceInfo is one source of chimed.yaml as a dataset card lists it:
// what it is, where its files are, its licence and where it came from.
type SourceInfo struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Role   string   `json:"role"`
	Preset string   `json:"preset,omitempty"`
	Format string   `json:"format,omitempty"`
	Paths  []string `json:"paths"`
	// License and URL are the source's license: and url: keys, "" when
	// chimed.yaml does not state them.
	License string `json:"license"`
	URL     string `json:"url"`
}

// provenance is the one place stats reads a source's licence and URL.
func provenance(s *ingest.Source) (license, url string) { return s.License, s.URL }

// sources reads chimed.yaml's source list. A workspace without one (or
// with one that does not load) gets a note; the rest of the report stands.
func (c *collector) sources() error {
	cfg, err := config.Load(string(c.ws))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.note("chimed.yaml is missing: no source list, licences or provenance")
		} else {
			c.note("no source list: %v", err)
		}
		return nil
	}
	unstated := 0
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		lic, url := provenance(s)
		if lic == "" && url == "" {
			unstated++
		}
		role := string(s.Role)
		if role == "" {
			role = "train"
		}
		c.rep.Sources = append(c.rep.Sources, SourceInfo{Name: s.Name, Kind: string(s.Kind), Role: role,
			Preset: s.Preset, Format: string(s.Format), Paths: append([]string{}, s.Paths...), License: lic, URL: url})
	}
	if unstated > 0 {
		c.note("%d of %d sources state no licence or URL (add license: and url: to them in chimed.yaml)", unstated, len(cfg.Sources))
	}
	return nil
}
