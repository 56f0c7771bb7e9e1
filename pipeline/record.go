package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/goccy/go-yaml"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
)

// Record is a step's completion record, .chimed/steps/<step>.json. A step
// removes its record when it starts and writes it last, so a step killed
// part-way leaves none, and a step that failed leaves one with Status
// "failed". A later step starts only when the records of the steps it reads
// from are "ok" and still current (see Step.Needs); `chimed run` skips a
// step whose own record matches its inputs, flags and outputs as they are.
//
// A record holds no timing (how long a step took is logged, not kept), but
// its fingerprints use files' modification times, so the records of two
// identical runs differ there while the outputs they describe do not.
type Record struct {
	// Step is the step's name ("clean", "export-trl", "train-sft").
	Step string `json:"step"`
	// Status is StatusOK or StatusFailed.
	Status string `json:"status"`
	// Error is the failed step's error.
	Error string `json:"error,omitempty"`
	// Version is the chimed version that ran the step.
	Version string `json:"version"`
	// ConfigSHA256 is the sha256 of chimed.yaml's bytes when the step ran.
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	// SettingsSHA256 hashes only the chimed.yaml keys the step reads
	// (Step.Settings): editing another section leaves the step current.
	SettingsSHA256 string `json:"settings_sha256,omitempty"`
	// Flags are the step's options that shape its outputs, as flags.
	Flags []string `json:"flags,omitempty"`
	// Inputs and Outputs fingerprint (see Fingerprint) each workspace path
	// the step read and wrote, by workspace-relative slash path.
	Inputs  map[string]string `json:"inputs,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
	// Rows counts what the step read and wrote, by the step's own names
	// ("written", "kept", "sft/train", …).
	Rows Counts `json:"rows,omitempty"`
}

// Record statuses.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// Counts are a step's row counts by name.
type Counts map[string]int64

// RecordPath is where step's completion record lives.
func RecordPath(ws workspace.Dir, step string) string {
	return ws.Path(".chimed", "steps", step+".json")
}

// ReadRecord reads step's completion record; the error wraps
// fs.ErrNotExist when there is none.
func ReadRecord(ws workspace.Dir, step string) (*Record, error) {
	b, err := os.ReadFile(RecordPath(ws, step))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", RecordPath(ws, step), err)
	}
	return &r, nil
}

// writeRecord writes r atomically.
func writeRecord(ws workspace.Dir, r *Record) error {
	return atomicfile.WriteJSON(RecordPath(ws, r.Step), r)
}

// removeRecord drops step's record, as the step starts.
func removeRecord(ws workspace.Dir, step string) error {
	err := os.Remove(RecordPath(ws, step))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// fingerprints fingerprints each path (workspace-relative, or absolute).
func fingerprints(ws workspace.Dir, rel []string) (map[string]string, error) {
	out := make(map[string]string, len(rel))
	for _, r := range rel {
		path := r
		if !filepath.IsAbs(r) {
			path = ws.Path(filepath.FromSlash(r))
		}
		fp, err := Fingerprint(string(ws), path)
		if err != nil {
			return nil, err
		}
		out[r] = fp
	}
	return out, nil
}

// firstChanged names the first path (in order) whose fingerprint differs
// between was and now, or "".
func firstChanged(was, now map[string]string) string {
	keys := slices.Sorted(maps.Keys(now))
	for _, k := range keys {
		if was[k] != now[k] {
			return k
		}
	}
	for _, k := range slices.Sorted(maps.Keys(was)) {
		if _, ok := now[k]; !ok {
			return k
		}
	}
	return ""
}

// configHashes returns the sha256 of chimed.yaml's bytes and of the values
// of the given top-level keys alone ("" for both without a chimed.yaml).
// The keys are read from the YAML as written, so a default spelled out
// counts as a change: the hash errs towards calling a step stale.
func configHashes(ws workspace.Dir, keys []string) (whole, settings string, err error) {
	data, err := os.ReadFile(ws.Path(config.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(data)
	whole = hex.EncodeToString(sum[:])
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return whole, whole, nil // config.Load names the error; any edit is a change
	}
	picked := map[string]any{}
	for _, k := range keys {
		picked[k] = doc[k]
	}
	b, err := json.Marshal(picked)
	if err != nil {
		return whole, whole, nil
	}
	sum = sha256.Sum256(b)
	return whole, hex.EncodeToString(sum[:]), nil
}
