package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chimed/chimed/internal/atomicfile"
)

// Fingerprint hashes a file's or folder's state for completion records.
// It uses each file's path, size and modification time, not its bytes, so
// checking a multi-gigabyte workspace costs a directory walk.
//
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
