package clean

import (
	"fmt"
	"strings"
	"sync"

	"github.com/chimed/chimed/internal/atomicfile"
)

// Report is reports/clean.json. Every number comes from the counters the
// run itself used to decide; for every source, In = Kept + Σ Removed.
type Report struct {
	Sources map[string]*SourceCounts `json:"sources"`
	Totals  *SourceCounts            `json:"totals"`
	// Rewrites counts what normalisers changed (rows are not removed for it).
	Rewrites Rewrites `json:"rewrites"`
	// NearDedup describes the near-dedup index and what it found.
	NearDedup *NearStats `json:"near_dedup,omitempty"`

	mu sync.Mutex // guards Sources while the run fills it
}

// SourceCounts are one source's row counts.
type SourceCounts struct {
	In      int64            `json:"in"`
	Kept    int64            `json:"kept"`
	Removed map[string]int64 `json:"removed"`
}

// Rewrites are the normalisers' counters: "normalise" by normaliser name,
// "pii" by placeholder type.
type Rewrites struct {
	Normalise map[string]int64 `json:"normalise"`
	PII       map[string]int64 `json:"pii"`
}

// NearStats describes a near-dedup run.
type NearStats struct {
	Shingle          string  `json:"shingle"`
	NGram            int     `json:"ngram"`
	Bands            int     `json:"bands"`
	Rows             int     `json:"rows"`
	Threshold        float64 `json:"threshold"`
	ClusterThreshold float64 `json:"cluster_threshold"`
	IndexBytesPerRow int     `json:"index_bytes_per_row"`
	// Indexed rows, candidate pairs from shared buckets, pairs verified at
	// or above Threshold and at or above ClusterThreshold.
	Indexed    int64 `json:"indexed"`
	Candidates int64 `json:"candidates"`
	Duplicates int64 `json:"duplicate_pairs"`
	Clustered  int64 `json:"cluster_pairs"`
}

func newReport(sources []Source) *Report {
	r := &Report{Sources: map[string]*SourceCounts{}, Rewrites: Rewrites{Normalise: map[string]int64{}, PII: map[string]int64{}}}
	for _, s := range sources {
		r.source(s.Name)
	}
	return r
}

// source returns a source's counts, adding it on first use. One kind's
// pass 3 and a later kind's pass 1 both ask, so the map is locked; the
// counts themselves are each touched by one kind only, since a source
// holds one kind.
func (r *Report) source(name string) *SourceCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.Sources[name]
	if c == nil {
		c = &SourceCounts{Removed: map[string]int64{}}
		r.Sources[name] = c
	}
	return c
}

func (r *Report) addTally(t Tally) {
	for k, v := range t {
		if p, ok := strings.CutPrefix(k, "pii."); ok {
			r.Rewrites.PII[p] += v
		} else {
			r.Rewrites.Normalise[k] += v
		}
	}
}

// finish fills the totals and checks that every source's counts add up.
func (r *Report) finish() error {
	t := &SourceCounts{Removed: map[string]int64{}}
	for _, name := range sortedKeys(r.Sources) {
		c := r.Sources[name]
		sum := c.Kept
		for reason, n := range c.Removed {
			sum += n
			t.Removed[reason] += n
		}
		if sum != c.In {
			return fmt.Errorf("clean: source %s: %d rows in but %d kept or removed (a bug: please report it)", name, c.In, sum)
		}
		t.In += c.In
		t.Kept += c.Kept
	}
	r.Totals = t
	return nil
}

func (r *Report) write(path string) error { return atomicfile.WriteJSON(path, r) }
