package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/chimed/chimed/internal/atomicfile"
)

// Counts are what ingest counted for a source, straight from the counters
// the pipeline uses while it runs (no second pass over the output).
//
//   - Read: raw records seen in the source's files, broken ones included
//     (a file the reader gives up on counts once, as one quarantined record).
//
//   - RecordsOK: raw records that gave canonical output.
//
//   - Quarantined: raw records sent to quarantine/, one row each.
//
//   - Written: canonical rows written to normalized/.
//
//   - Bytes: bytes of the source's files read from disk.
//
//   - MetaCapped: rows written whose meta was longer than the source's
//     max_meta_bytes, so that their largest leftover raw fields were
//     dropped from meta (named in the row's "_meta_dropped").
//
//   - Lookup: with map.join, the rows of the lookup files (cMedQA2's
//     questions), which are joined into records rather than being records.
//
// Read = RecordsOK + Quarantined always holds. Written = RecordsOK for a
// source whose records map one to one (so read = written + quarantined);
// a fan-out mapping (map.each, map.relations: one KG record gives many
// triples) writes more rows than records. Lookup rows are outside Read:
// Lookup.Read = Lookup.Used + Lookup.Quarantined, and the source's
// quarantine files hold Quarantined + Lookup.Quarantined rows.
type Counts struct {
	Read        int64         `json:"read"`
	Written     int64         `json:"written"`
	Quarantined int64         `json:"quarantined"`
	Bytes       int64         `json:"bytes"`
	RecordsOK   int64         `json:"records_ok"`
	MetaCapped  int64         `json:"meta_capped"`
	Files       int           `json:"files"`
	Lookup      *LookupCounts `json:"lookup,omitempty"`
}

// LookupCounts count the lookup rows of a join: read, joined into at least
// one record (used), and quarantined (broken, keyless, a repeated key, or
// joined by no record).
type LookupCounts struct {
	Read        int64 `json:"read"`
	Used        int64 `json:"used"`
	Quarantined int64 `json:"quarantined"`
}

func (c *Counts) add(o Counts) {
	c.Read += o.Read
	c.Written += o.Written
	c.Quarantined += o.Quarantined
	c.Bytes += o.Bytes
	c.RecordsOK += o.RecordsOK
	c.MetaCapped += o.MetaCapped
	c.Files += o.Files
	if o.Lookup != nil {
		if c.Lookup == nil {
			c.Lookup = &LookupCounts{}
		}
		c.Lookup.Read += o.Lookup.Read
		c.Lookup.Used += o.Lookup.Used
		c.Lookup.Quarantined += o.Lookup.Quarantined
	}
}

// SourceReport is one source's entry in reports/ingest.json. Warnings
// keeps what ingest warned of for the source (files read as different
// formats or encodings; with --keep-going, more quarantined records than
// max_quarantine), so the report tells it after the log is gone.
type SourceReport struct {
	Kind string `json:"kind"`
	Counts
	Warnings []string `json:"warnings,omitempty"`
}

// Report is reports/ingest.json: {"sources": {NAME: {...}}, "totals": {...}}.
// It holds counts only, no times, so the same input gives the same bytes.
type Report struct {
	Sources map[string]*SourceReport `json:"sources"`
	Totals  Counts                   `json:"totals"`
}

// sumTotals recomputes Totals from Sources.
func (r *Report) sumTotals() {
	r.Totals = Counts{}
	names := make([]string, 0, len(r.Sources))
	for n := range r.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Totals.add(r.Sources[n].Counts)
	}
}

// WriteReport writes the report atomically, indented, keys in a fixed order.
func WriteReport(path string, r *Report) error {
	r.sumTotals()
	return atomicfile.WriteJSON(path, r)
}

// ReadReport reads reports/ingest.json; a missing file gives an empty report.
func ReadReport(path string) (*Report, error) {
	r := &Report{Sources: map[string]*SourceReport{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Sources == nil {
		r.Sources = map[string]*SourceReport{}
	}
	return r, nil
}
