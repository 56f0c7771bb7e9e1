// Package export hands the stage files to the trainers people already use:
// HF TRL, LLaMA-Factory and MedicalGPT (the Qilin-Med recipe, in its current
// layout and its earlier one), and to the Hugging Face datasets library as a
// save_to_disk folder of Arrow IPC streams with a dataset card. Each format
// is one file registering itself by name, so adding a trainer means adding
// one file. Every output is written streaming, under its final name only
// when complete (internal/atomicfile), and with deterministic bytes: the same
// stage files always give the same export files.
//
// A row the target tool would itself drop (a chat that does not alternate
// user/assistant, an empty document) is not written; it is counted with its
// reason in reports/export-<format>.json, so nothing is lost silently.
package export

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Format writes the stage files of a workspace in one trainer's layout.
type Format interface {
	// Name is the --format value, also the folder under export/.
	Name() string
	// Export reads the stage files of in and writes the format's files
	// under out, recording each file in rep.
	Export(in workspace.Dir, out string, opts Options, rep *Report) error
}

// Options are the choices an export takes besides its format. The zero
// value is the default of every format.
type Options struct {
	// TRLDPO is the row form of TRL's DPO files (see TRLDPOForm).
	TRLDPO TRLDPOForm
	// Sources are chimed.yaml's sources. The hf format's dataset card takes
	// each source's licence and address from them; other formats ignore them.
	Sources []ingest.Source
}

// TRLDPOForm is how TRL's DPO rows hold their text. TRL applies the
// model's chat template only to conversational rows (lists of {role,
// content}), so the conversational form trains DPO on prompts shaped like
// the SFT rows' "messages"; the standard form hands TRL plain strings it
// tokenises as they are.
type TRLDPOForm string

// The TRL DPO row forms.
const (
	// TRLConversational (the default): "prompt" is a list holding the user
	// message, "chosen" and "rejected" lists holding one assistant message.
	TRLConversational TRLDPOForm = "conversational"
	// TRLStandard: "prompt", "chosen" and "rejected" are plain strings.
	TRLStandard TRLDPOForm = "standard"
)

// validate fills defaults and rejects unknown values.
func (o *Options) validate() error {
	switch o.TRLDPO {
	case "":
		o.TRLDPO = TRLConversational
	case TRLConversational, TRLStandard:
	default:
		return fmt.Errorf("unknown TRL DPO form %q (want %s or %s)", o.TRLDPO, TRLConversational, TRLStandard)
	}
	return nil
}

var formats = map[string]Format{}

// Register makes a format available to Run by its name.
func Register(f Format) { formats[f.Name()] = f }

// Names lists the registered formats in name order.
func Names() []string {
	var ns []string
	for n := range formats {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Report says what one export wrote and what it left out; it is written to
// reports/export-<format>.json.
type Report struct {
	Format string `json:"format"`
	// Dir is the export folder, relative to the workspace.
	Dir string `json:"dir"`
	// Form names the row form written where a format has more than one
	// (trl: the TRLDPOForm of its DPO files).
	Form  string       `json:"form,omitempty"`
	Files []FileReport `json:"files"`
	// Notes list stage files that were missing or empty, and so not
	// exported, and anything else a reader of the export should know.
	Notes []string `json:"notes"`
}

// FileReport describes one written file.
type FileReport struct {
	// Path is relative to the export folder.
	Path string `json:"path"`
	// From is the stage file it was made from, relative to the workspace.
	From    string           `json:"from"`
	Rows    int64            `json:"rows"`
	Skipped map[string]int64 `json:"skipped,omitempty"`
	Bytes   int64            `json:"bytes"`
	SHA256  string           `json:"sha256"`
}

// Run exports the stages of workspace ws in the named format into
// export/<format>/, removes files there that this run did not write (so the
// folder holds exactly one export), and writes reports/export-<format>.json.
func Run(ws workspace.Dir, format string, opts Options) (*Report, error) {
	f, ok := formats[format]
	if !ok {
		return nil, fmt.Errorf("unknown export format %q (want one of %s)", format, strings.Join(Names(), ", "))
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("export %s: %w", format, err)
	}
	out := ws.Export(format)
	if err := atomicfile.Sweep(out); err != nil {
		return nil, err
	}
	rep := &Report{Format: format, Dir: filepath.ToSlash(filepath.Join("export", format)), Files: []FileReport{}, Notes: []string{}}
	if err := f.Export(ws, out, opts, rep); err != nil {
		return nil, err
	}
	if len(rep.Files) == 0 {
		return nil, fmt.Errorf("export %s: no stage rows to export under %s (run `chimed build-stages` first): %s",
			format, ws.Stages(), strings.Join(rep.Notes, "; "))
	}
	if err := removeStale(out, rep); err != nil {
		return nil, err
	}
	return rep, atomicfile.WriteJSON(ws.Report("export-"+format+".json"), rep)
}

// removeStale deletes files under out that rep does not list, and then the
// folders left empty: a split that was exported last time but is empty now
// must not linger, because trainers such as MedicalGPT read every file of a
// folder, and a folder of an earlier layout must not look like data.
func removeStale(out string, rep *Report) error {
	keep := map[string]bool{}
	for _, f := range rep.Files {
		keep[filepath.FromSlash(f.Path)] = true
	}
	var dirs []string
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != out {
				dirs = append(dirs, p)
			}
			return nil
		}
		rel, err := filepath.Rel(out, p)
		if err != nil {
			return err
		}
		if !keep[rel] {
			return os.Remove(p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- { // children before their parents
		ents, err := os.ReadDir(dirs[i])
		if err != nil {
			return err
		}
		if len(ents) == 0 {
			if err := os.Remove(dirs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// stageInput is one stage split file to export.
type stageInput struct {
	stage schemas.Stage
	split string
	path  string
	rel   string // relative to the workspace, for reports
	rows  int64  // as the file's metadata counts them
}

// stageShape is the row shape of a stage of the table.
func stageShape(st schemas.Stage) (schemas.Shape, error) {
	sp, ok := schemas.Spec(st)
	if !ok {
		return "", fmt.Errorf("stage %q is not in the stage table", st)
	}
	return sp.Shape, nil
}

// errShape is the error of a format asked to export rows it has no layout
// for: a stage is exported or the export fails, never skipped silently.
func errShape(format string, st schemas.Stage, sh schemas.Shape) error {
	return fmt.Errorf("export %s: stage %s has %q rows, which this format has no layout for", format, st, sh)
}

// stageInputs lists the split files of a stage that exist and hold rows;
// the others become notes in rep.
func stageInputs(ws workspace.Dir, st schemas.Stage, rep *Report) ([]stageInput, error) {
	var ins []stageInput
	for _, split := range schemas.Splits {
		p := ws.StageFile(st, split)
		rel := filepath.ToSlash(filepath.Join("stages", string(st), split+".parquet"))
		n, err := schemas.CountRows(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			rep.Notes = append(rep.Notes, rel+" is missing")
			continue
		case err != nil:
			return nil, err
		case n == 0:
			rep.Notes = append(rep.Notes, rel+" has no rows")
			continue
		}
		ins = append(ins, stageInput{st, split, p, rel, n})
	}
	return ins, nil
}

// rowWriter is a sink for converted rows that appears under its final name
// only on Commit.
type rowWriter[T any] interface {
	Write(T) error
	// Commit finishes the file and returns its size and sha256.
	Commit() (int64, string, error)
	Abort()
}

// convert streams every row of the stage file in through conv into w. conv
// returns a non-empty reason to skip a row the target tool would reject. A
// file that ends with no rows written is aborted (no empty files appear).
func convert[In, Out any](in stageInput, out, rel string, w rowWriter[Out], conv func(In) (Out, string), rep *Report) error {
	fr := FileReport{Path: rel, From: in.rel}
	for row, err := range schemas.ReadFile[In](in.path) {
		if err != nil {
			w.Abort()
			return fmt.Errorf("export %s: %w", rel, err)
		}
		o, skip := conv(row)
		if skip != "" {
			if fr.Skipped == nil {
				fr.Skipped = map[string]int64{}
			}
			fr.Skipped[skip]++
			continue
		}
		if err := w.Write(o); err != nil {
			w.Abort()
			return fmt.Errorf("export %s: %w", filepath.Join(out, rel), err)
		}
		fr.Rows++
	}
	if fr.Rows == 0 {
		w.Abort()
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: every row of %s was skipped %v", rel, in.rel, fr.Skipped))
		return nil
	}
	n, sum, err := w.Commit()
	if err != nil {
		return fmt.Errorf("export %s: %w", filepath.Join(out, rel), err)
	}
	fr.Bytes, fr.SHA256 = n, sum
	rep.Files = append(rep.Files, fr)
	return nil
}

// hashedFile is an atomic file whose bytes are counted and hashed as they
// are written.
type hashedFile struct {
	f *atomicfile.File
	h hash.Hash
	n int64
	w io.Writer
}

func createHashed(path string) (*hashedFile, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	hf := &hashedFile{f: f, h: sha256.New()}
	hf.w = io.MultiWriter(f, hf.h)
	return hf, nil
}

func (hf *hashedFile) Write(p []byte) (int, error) {
	n, err := hf.w.Write(p)
	hf.n += int64(n)
	return n, err
}

func (hf *hashedFile) commit() (int64, string, error) {
	if err := hf.f.Commit(); err != nil {
		return 0, "", err
	}
	return hf.n, hex.EncodeToString(hf.h.Sum(nil)), nil
}

// jsonlWriter writes one JSON object a line (JSON Lines), with non-ASCII
// and <>& left as they are so Chinese text stays readable.
type jsonlWriter[T any] struct {
	hf  *hashedFile
	buf *bufio.Writer
	enc *json.Encoder
}

func newJSONL[T any](path string) (*jsonlWriter[T], error) {
	hf, err := createHashed(path)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(hf, 1<<16)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return &jsonlWriter[T]{hf: hf, buf: buf, enc: enc}, nil
}

func (w *jsonlWriter[T]) Write(v T) error { return w.enc.Encode(v) }

func (w *jsonlWriter[T]) Commit() (int64, string, error) {
	if err := w.buf.Flush(); err != nil {
		w.Abort()
		return 0, "", err
	}
	return w.hf.commit()
}

func (w *jsonlWriter[T]) Abort() { w.hf.f.Abort() }

// lineWriter writes one string a line; callers make sure the string holds
// no line break (see oneLine).
type lineWriter struct {
	hf  *hashedFile
	buf *bufio.Writer
}

func newLines(path string) (*lineWriter, error) {
	hf, err := createHashed(path)
	if err != nil {
		return nil, err
	}
	return &lineWriter{hf: hf, buf: bufio.NewWriterSize(hf, 1<<16)}, nil
}

func (w *lineWriter) Write(s string) error {
	if _, err := w.buf.WriteString(s); err != nil {
		return err
	}
	return w.buf.WriteByte('\n')
}

func (w *lineWriter) Commit() (int64, string, error) {
	if err := w.buf.Flush(); err != nil {
		w.Abort()
		return 0, "", err
	}
	return w.hf.commit()
}

func (w *lineWriter) Abort() { w.hf.f.Abort() }

// parquetWriter writes rows of T as zstd Parquet with the options of every
// chimed file, handing parquet-go batches of rows and flushing a row group
// every 8,192 rows to bound memory.
type parquetWriter[T any] struct {
	hf    *hashedFile
	pw    *parquet.GenericWriter[T]
	buf   []T
	group int
}

func newParquet[T any](path string) (*parquetWriter[T], error) {
	hf, err := createHashed(path)
	if err != nil {
		return nil, err
	}
	return &parquetWriter[T]{hf: hf, pw: parquet.NewGenericWriter[T](hf, schemas.WriterOptions()...), buf: make([]T, 0, 1024)}, nil
}

func (w *parquetWriter[T]) Write(v T) error {
	w.buf = append(w.buf, v)
	if len(w.buf) < cap(w.buf) {
		return nil
	}
	return w.flush()
}

func (w *parquetWriter[T]) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.pw.Write(w.buf); err != nil {
		return err
	}
	w.group += len(w.buf)
	clear(w.buf) // drop references to the rows' strings
	w.buf = w.buf[:0]
	if w.group >= 8192 {
		w.group = 0
		return w.pw.Flush()
	}
	return nil
}

func (w *parquetWriter[T]) Commit() (int64, string, error) {
	if err := w.flush(); err != nil {
		w.Abort()
		return 0, "", err
	}
	if err := w.pw.Close(); err != nil {
		w.Abort()
		return 0, "", err
	}
	return w.hf.commit()
}

func (w *parquetWriter[T]) Abort() { w.hf.f.Abort() }

// writeJSON writes v as atomicfile.JSON renders it to path atomically, and
// records it with its hash.
func writeJSON(out, rel string, v any, rep *Report) error {
	hf, err := createHashed(filepath.Join(out, rel))
	if err != nil {
		return err
	}
	b, err := atomicfile.JSON(v)
	if err != nil {
		hf.f.Abort()
		return err
	}
	if _, err := hf.Write(b); err != nil {
		hf.f.Abort()
		return err
	}
	n, sum, err := hf.commit()
	if err != nil {
		return err
	}
	rep.Files = append(rep.Files, FileReport{Path: rel, Bytes: n, SHA256: sum})
	return nil
}
