// Package atomicfile writes a file so that it appears under its final name
// only when it is complete: data goes to a temporary file in the same folder,
// is synced, and is renamed over the final name on Commit. A killed process
// leaves at most a ".tmp-*" file behind, which Sweep removes on the next run.
package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts the name of every temporary file this package makes.
const TempPrefix = ".tmp-"

// File is a file being written; it becomes visible on Commit.
type File struct {
	*os.File
	final string
	done  bool
}

// Create starts writing path, creating its folder if needed.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, final: path}, nil
}

// Commit syncs, closes and renames the file to its final name.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	// CreateTemp makes files 0600; outputs are ordinary files others read.
	if err := f.Chmod(0o644); err != nil {
		f.File.Close()
		os.Remove(f.Name())
		return fmt.Errorf("chmod %s: %w", f.final, err)
	}
	if err := f.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.Name())
		return fmt.Errorf("sync %s: %w", f.final, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("close %s: %w", f.final, err)
	}
	if err := os.Rename(f.Name(), f.final); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// Abort drops the temporary file; it is safe to call after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// JSON renders v as JSON indented by two spaces with a final newline, the
// one form of every JSON file chimed writes.
func JSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteJSON writes v to path atomically in the form JSON gives.
func WriteJSON(path string, v any) error {
	b, err := JSON(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFile(path, b)
}

// Sweep removes temporary files left in dir (and below it) by a killed run.
func Sweep(dir string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), TempPrefix) {
			return os.Remove(p)
		}
		return nil
	})
}
