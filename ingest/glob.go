package ingest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
)

// ErrUnreadable marks a raw file or folder the operating system would not
// let ingest read (permission denied, a dangling link, an I/O error). It is
// an error of the run, not a quarantined record: the records the file
// holds were never seen, so nothing could say how many were lost.
var ErrUnreadable = errors.New("unreadable")

// glob is filepath.Glob that reports the folders it cannot read instead
// of skipping them, so a source's files are all there or the run fails.
// A folder named literally that does not exist matches nothing (the
// caller reports the empty match); an entry a pattern matched that cannot
// be listed (no permission, a dangling link, a link loop) is an error
// naming it.
func glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	if !hasMeta(pattern) {
		if _, err := os.Lstat(pattern); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
		}
		return []string{pattern}, nil
	}
	dir, file := filepath.Split(pattern)
	dir = cleanGlobDir(dir)
	if !hasMeta(dir) {
		return globDir(dir, file, nil, true)
	}
	if dir == pattern {
		return nil, filepath.ErrBadPattern
	}
	dirs, err := glob(dir)
	if err != nil {
		return nil, err
	}
	var m []string
	for _, d := range dirs {
		if m, err = globDir(d, file, m, false); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// globDir appends dir's entries matching pattern to m. literal says dir
// came from the pattern as written, so its absence is no match rather
// than an entry gone missing; a matched entry that is a file is not a
// folder to look in.
func globDir(dir, pattern string, m []string, literal bool) ([]string, error) {
	f, err := os.Open(dir)
	if err == nil {
		var names []string
		names, err = f.Readdirnames(-1)
		f.Close()
		if err == nil || errors.Is(err, io.EOF) {
			sort.Strings(names)
			for _, n := range names {
				if ok, _ := filepath.Match(pattern, n); ok {
					m = append(m, filepath.Join(dir, n))
				}
			}
			return m, nil
		}
	}
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		return m, nil
	case literal && errors.Is(err, fs.ErrNotExist):
		return m, nil
	}
	return m, fmt.Errorf("%w: folder %s: %w", ErrUnreadable, dir, err)
}

// cleanGlobDir is filepath.Glob's: the folder part of a pattern without
// its trailing separator.
func cleanGlobDir(path string) string {
	vol := filepath.VolumeName(path)
	switch path[len(vol):] {
	case "":
		return "."
	case string(filepath.Separator):
		return path
	default:
		return path[:len(path)-1]
	}
}

// hasMeta says whether path holds a character filepath.Match treats
// specially.
func hasMeta(path string) bool {
	magic := `*?[`
	if runtime.GOOS != "windows" {
		magic = `*?[\`
	}
	return strings.ContainsAny(path, magic)
}

// unreadableReader marks every error reading a raw file but its end as
// ErrUnreadable, so the pipeline can tell an I/O failure (the rest of the
// file never read) from a broken record in it.
type unreadableReader struct{ r io.Reader }

func (u unreadableReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return n, err
}
