package stages

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Manifest is stages/manifest.json: what build-stages wrote, from what, and
// where every clean record went. It holds no timestamps, so two runs on the
// same inputs give the same bytes.
type Manifest struct {
	Version      string         `json:"version"`
	Seed         uint64         `json:"seed"`
	ConfigSHA256 string         `json:"config_sha256"`
	Tokens       string         `json:"tokens"` // chars | words
	NGram        int            `json:"ngram"`
	Splits       SplitFractions `json:"splits"`
	// Files lists every file under stages/ this run wrote or vouches for.
	Files []FileEntry `json:"files"`
	// Stages counts rows and tokens per stage and split.
	Stages map[schemas.Stage]map[string]*SplitCount `json:"stages"`
	// Eval counts the rows of the eval sets ("exam", "qa").
	Eval map[string]int64 `json:"eval"`
	// Sources follows every clean record of every source: In = Used +
	// the sum of Unused (KG sources count triples).
	Sources map[string]*SourceCount `json:"sources"`
	Totals  SourceCount             `json:"totals"`
	// KGStats is the path of the knowledge-graph statistics file.
	KGStats string `json:"kg_stats"`
	// LeakageCheck is "passed" or "skipped".
	LeakageCheck string `json:"leakage_check"`

	// Throughput is how much this run read and wrote, for benchmarks; it
	// is not written, so the manifest stays byte-identical across runs.
	Throughput Throughput `json:"-"`
}

// Throughput counts a run's input and output volume.
type Throughput struct {
	CleanBytes int64 // bytes of the clean/ Parquet files read
	CleanRows  int64 // rows read from clean/
	TextBytes  int64 // UTF-8 bytes of text in the training stage rows written
	Spills     int64 // spool and index runs written to .chimed/tmp past the memory budget
}

// FileEntry describes one written file; Path is workspace-relative with "/".
type FileEntry struct {
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// SplitCount is the size of one stage split.
type SplitCount struct {
	Rows   int64 `json:"rows"`
	Tokens int64 `json:"tokens"`
}

// SourceCount follows one source's clean records into the stages.
type SourceCount struct {
	Kind   schemas.Kind     `json:"kind,omitempty"`
	Eval   bool             `json:"eval,omitempty"`
	In     int64            `json:"in"`
	Used   int64            `json:"used"`
	Unused map[string]int64 `json:"unused"` // reason → records
	// Rows counts the rows this source gave each file ("sft/train",
	// "eval/exam", …); one record may give several rows.
	Rows map[string]int64 `json:"rows"`
}

func newSourceCount(k schemas.Kind, eval bool) *SourceCount {
	return &SourceCount{Kind: k, Eval: eval, Unused: map[string]int64{}, Rows: map[string]int64{}}
}

// settle records the fate of n records.
func (s *SourceCount) settle(used bool, reason string, n int64) {
	s.In += n
	if used {
		s.Used += n
		return
	}
	if reason == "" {
		reason = "unused"
	}
	s.Unused[reason] += n
}

// ReadManifest reads a workspace's stages/manifest.json.
func ReadManifest(ws workspace.Dir) (*Manifest, error) {
	b, err := os.ReadFile(ManifestPath(ws))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errors.Join(errors.New(ManifestPath(ws)), err)
	}
	return &m, nil
}

// ManifestPath is stages/manifest.json.
func ManifestPath(ws workspace.Dir) string { return ws.Path("stages", "manifest.json") }

// KGStatsPath is stages/kg_stats.json, the kg.Stats of the last build.
func KGStatsPath(ws workspace.Dir) string { return ws.Path("stages", "kg_stats.json") }

// NegativesPath is where `chimed dpo-negatives` writes model-generated
// DPO pairs (the trainer's trainer.NegativesSplit file).
func NegativesPath(ws workspace.Dir) string { return ws.StageFile(schemas.StageDPO, "negatives") }

// describe hashes a file for the manifest.
func describe(ws workspace.Dir, path string, rows int64) (FileEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileEntry{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileEntry{}, err
	}
	rel, err := filepath.Rel(string(ws), path)
	if err != nil {
		rel = path
	}
	return FileEntry{Path: filepath.ToSlash(rel), Rows: rows, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// sum adds a reason map's counts.
func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
