package ingest

import (
	"strings"
	"testing"
)

// TestSourceLicenseURL checks the provenance keys a dataset card reads:
// well-formed values pass, and a bad one is an error naming the source and
// the key.
func TestSourceLicenseURL(t *testing.T) {
	tests := []struct {
		name, license, url string
		wantErr            string // "" for valid
	}{
		{"none", "", "", ""},
		{"apache", "apache-2.0", "https://huggingface.co/datasets/shibing624/medical", ""},
		{"cc", "cc-by-nc-sa-4.0", "http://example.org/a?b=c", ""},
		{"plus", "openrail++", "", ""},
		{"other", "other", "", ""},
		{"upper", "Apache-2.0", "", "sources[s].license"},
		{"spaces", "apache 2.0", "", "sources[s].license"},
		{"leading dash", "-mit", "", "sources[s].license"},
		{"newline", "mit\nfoo: bar", "", "sources[s].license"},
		{"relative url", "", "huggingface.co/datasets/x", "sources[s].url"},
		{"ftp url", "", "ftp://example.org/x", "sources[s].url"},
		{"no host", "", "https:///x", "sources[s].url"},
		{"not a url", "", "http://[::1", "sources[s].url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Source{Name: "s", Kind: "qa", Paths: []string{"raw/a.jsonl"}, License: tc.license, URL: tc.url}
			err := s.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
}

// TestPresetKeepsLicenseURL: a preset fills the reading keys but never drops
// the provenance a user wrote beside it.
func TestPresetKeepsLicenseURL(t *testing.T) {
	s, err := ApplyPreset(Source{Name: "s", Kind: "qa", Preset: "huatuo26m", Paths: []string{"x"},
		License: "apache-2.0", URL: "https://huggingface.co/datasets/FreedomIntelligence/huatuo26M-testdatasets"})
	if err != nil {
		t.Fatal(err)
	}
	if s.License != "apache-2.0" || s.URL != "https://huggingface.co/datasets/FreedomIntelligence/huatuo26M-testdatasets" {
		t.Errorf("after ApplyPreset: license %q, url %q", s.License, s.URL)
	}
}
