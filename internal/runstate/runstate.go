// Package runstate lets `chimed run` skip steps whose outputs are up to date.
// A step's stamp records a fingerprint of its inputs (the configuration and
// the files it reads) and of its outputs; the step is up to date when both
// still match. Fingerprints use each file's path, size and modification time,
// not its bytes, so checking a multi-gigabyte workspace costs a directory walk.
package runstate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chimed/chimed/internal/atomicfile"
)

// Fingerprint hashes the names, sizes and modification times of every file
// under the given paths (files or folders; missing ones count as absent),
// ignoring temporary files. Paths are recorded relative to root.
func Fingerprint(root string, paths ...string) (string, error) {
	type entry struct {
		rel   string
		size  int64
		mtime int64
	}
	var entries []entry
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() || strings.HasPrefix(d.Name(), atomicfile.TempPrefix) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				rel = path
			}
			entries = append(entries, entry{rel, info.Size(), info.ModTime().UnixNano()})
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", p, err)
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].rel < entries[j].rel })
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", e.rel, e.size, e.mtime)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Stamp is what a finished step leaves behind.
type Stamp struct {
	Step    string `json:"step"`
	Inputs  string `json:"inputs"`
	Outputs string `json:"outputs"`
}

// Store keeps stamps as files in a folder (the workspace's .chimed/).
type Store struct{ Dir string }

func (s Store) path(step string) string { return filepath.Join(s.Dir, "stamp-"+step+".json") }

// UpToDate reports whether step's recorded stamp matches the given
// fingerprints.
func (s Store) UpToDate(step, inputs, outputs string) bool {
	b, err := os.ReadFile(s.path(step))
	if err != nil {
		return false
	}
	var st Stamp
	if json.Unmarshal(b, &st) != nil {
		return false
	}
	return st.Inputs == inputs && st.Outputs == outputs
}

// Record writes step's stamp.
func (s Store) Record(step, inputs, outputs string) error {
	b, _ := json.MarshalIndent(Stamp{step, inputs, outputs}, "", "  ")
	return atomicfile.WriteFile(s.path(step), b)
}

// Forget drops step's stamp, so the next run redoes it.
func (s Store) Forget(step string) error {
	err := os.Remove(s.path(step))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
