// Package workspace names the folders and files of a chimed workspace, so
// every step agrees on the layout of SPEC.md without repeating it.
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chimed/chimed/schemas"
)

// Dir is a workspace folder: the one holding chimed.yaml and every output.
type Dir string

// Config is the path of chimed.yaml.
func (d Dir) Config() string { return filepath.Join(string(d), "chimed.yaml") }

// Normalized is ingest's output folder for a kind.
func (d Dir) Normalized(k schemas.Kind) string {
	return filepath.Join(string(d), "normalized", string(k))
}

// Quarantine is ingest's folder of unreadable records.
func (d Dir) Quarantine() string { return filepath.Join(string(d), "quarantine") }

// Clean is clean's output folder for a kind.
func (d Dir) Clean(k schemas.Kind) string { return filepath.Join(string(d), "clean", string(k)) }

// Removed is clean's folder of removed rows.
func (d Dir) Removed() string { return filepath.Join(string(d), "removed") }

// Stages is build-stages' output folder.
func (d Dir) Stages() string { return filepath.Join(string(d), "stages") }

// StageFile is one split file of a stage.
func (d Dir) StageFile(s schemas.Stage, split string) string {
	return filepath.Join(string(d), "stages", string(s), split+".parquet")
}

// EvalFile is one held-out evaluation set ("exam" or "qa").
func (d Dir) EvalFile(name string) string {
	return filepath.Join(string(d), "stages", "eval", name+".parquet")
}

// Reports is the folder of step reports.
func (d Dir) Reports() string { return filepath.Join(string(d), "reports") }

// Report is one report file, e.g. Report("ingest.json").
func (d Dir) Report(name string) string { return filepath.Join(string(d), "reports", name) }

// Runs is the training runs folder of a stage.
func (d Dir) Runs(s schemas.Stage) string { return filepath.Join(string(d), "runs", string(s)) }

// Export is the export folder of a format.
func (d Dir) Export(format string) string { return filepath.Join(string(d), "export", format) }

// Path joins a path relative to the workspace.
func (d Dir) Path(rel ...string) string {
	return filepath.Join(append([]string{string(d)}, rel...)...)
}

// MissingError says a command ran before the step that makes its input:
// which workspace path is missing and which command writes it, so the
// user's next move is in the message.
type MissingError struct {
	// Path is workspace-relative, in slash form ("normalized", "stages/manifest.json").
	Path string
	// Step is the chimed command that writes Path ("ingest", "train --stage dcpt").
	Step string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s is missing (run `chimed %s` first)", e.Path, e.Step)
}

// Require returns a *MissingError for the first of the workspace-relative
// paths (slash form) that does not exist, written by command step; nil when
// all exist. Other stat errors (permissions) are returned as they are.
func (d Dir) Require(step string, rel ...string) error {
	for _, r := range rel {
		_, err := os.Stat(d.Path(filepath.FromSlash(r)))
		if errors.Is(err, fs.ErrNotExist) {
			return &MissingError{Path: r, Step: step}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Tmp is the workspace's folder of temporary files (a gzip'd Parquet or
// XLSX file spooled for random access, excelize's spilled sheet XML). It is
// inside the workspace, not the system's temporary folder, so a killed
// run's leftovers are found and swept by the next command that takes the
// lock, and a big spool fills the workspace's disk, not /tmp.
func (d Dir) Tmp() string { return d.Path(".chimed", "tmp") }
