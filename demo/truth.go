package demo

import (
	"encoding/json"
	"fmt"
	"os"
)

// TruthFile is the name of the ground-truth file chimed demo writes into the
// workspace, beside chimed.yaml.
const TruthFile = "demo-truth.json"

// What names the kind of trouble (or test material) planted in the demo.
type What string

// Planted things.
const (
	// Broken is a record ingest cannot read; Class says why.
	Broken What = "broken"
	// LongRecord is a valid record over 1 MB that ingest must read whole.
	LongRecord What = "long_record"
	// Quirk is a valid record in an awkward shape (a bare quote in an
	// unquoted CSV cell, a cell with a newline) that must be read, not quarantined.
	Quirk What = "quirk"
	// ExactDup has the same canonical content as Of.
	ExactDup What = "exact_dup"
	// NearDup is Of with a few characters changed; Jaccard is their
	// character 5-gram Jaccard (see Jaccard5).
	NearDup What = "near_dup"
	// NearDistinct is a different record rendered from the same template
	// as Of (another disease): similar-looking, not a duplicate. Clean must
	// keep both; these measure near-dedup precision.
	NearDistinct What = "near_distinct"
	// PIIValue is personal data (PII.Value) inside the record's text.
	PIIValue What = "pii"
	// PIIDecoy is a PII-looking string that fails validation (a dose, a
	// date, an ID number with a wrong checksum); it must stay untouched.
	PIIDecoy What = "pii_decoy"
	// Noise is markup or odd characters in the record's text (Needle: an
	// HTML entity or tag, U+3000, a zero-width space, full-width ASCII) that
	// clean's normalisation must rewrite; the record itself is kept.
	Noise What = "noise"
	// Contamination is a training record holding an evaluation question
	// (Of points at it), verbatim or lightly wrapped.
	Contamination What = "contamination"
)

// Expect is what the pipeline must do with a planted record.
type Expect string

// Expected outcomes.
const (
	ExpectQuarantine   Expect = "quarantine"   // ingest sends it to quarantine/ with Class
	ExpectIngest       Expect = "ingest"       // ingest must read and write it
	ExpectKeep         Expect = "keep"         // clean must keep it (and Of)
	ExpectExactDup     Expect = "exact_dup"    // clean removes it or Of as exact_dup, keeping one
	ExpectNearDup      Expect = "near_dup"     // clean removes it or Of as near_dup, keeping one
	ExpectContaminated Expect = "contaminated" // clean removes it as contaminated
	ExpectMask         Expect = "mask"         // clean replaces PII.Value with PII.Placeholder
	ExpectNormalize    Expect = "normalize"    // clean rewrites Needle away and keeps the record
)

// ErrorClass says why ingest must quarantine a broken record. Ingest's own
// error values may be finer; these are the classes its tests map them to.
type ErrorClass string

// Error classes of broken records.
const (
	ClassJSON     ErrorClass = "json"          // malformed JSON
	ClassEncoding ErrorClass = "encoding"      // bytes invalid in the file's encoding (UTF-8 or GBK)
	ClassFields   ErrorClass = "fields"        // CSV/TSV row with the wrong number of fields
	ClassMissing  ErrorClass = "missing_field" // a required column is absent or empty
	ClassTooLarge ErrorClass = "too_large"     // over the source's max_record_bytes
)

// PIIType names a kind of personal data.
type PIIType string

// PII types and the placeholder clean is expected to put in their place.
const (
	PIIMobile   PIIType = "mobile"    // 1[3-9]xxxxxxxxx
	PIILandline PIIType = "landline"  // 010-12345678
	PIIIDCard   PIIType = "id_card"   // 18-digit resident ID, valid checksum
	PIIBankCard PIIType = "bank_card" // 16 or 19 digits passing Luhn
	PIIEmail    PIIType = "email"
	PIIURL      PIIType = "url"
	PIIQQ       PIIType = "qq"     // digits after "QQ"
	PIIWeChat   PIIType = "wechat" // id after "微信"
)

// Placeholders maps each PII type to the typed placeholder of issue #3.
var Placeholders = map[PIIType]string{
	PIIMobile: "[PHONE]", PIILandline: "[PHONE]", PIIIDCard: "[ID]", PIIBankCard: "[BANKCARD]",
	PIIEmail: "[EMAIL]", PIIURL: "[URL]", PIIQQ: "[QQ]", PIIWeChat: "[WECHAT]",
}

// Truth is the ground truth of one demo workspace: what every source holds
// and every piece of trouble planted in it, so ingest and clean tests can
// check themselves against it.
type Truth struct {
	Seed       uint64 `json:"seed"`
	ScaleBytes int64  `json:"scale_bytes"` // the --scale asked for
	// Guarded is true when the generator checked that no two unplanted
	// records of a kind have a character 5-gram Jaccard ≥ GuardJaccard and
	// that no training record shares a GuardNGram-character n-gram with an
	// eval question (default scale). Big --scale runs only keep unplanted
	// records from repeating exactly, so they hold natural near duplicates.
	Guarded      bool          `json:"guarded"`
	GuardJaccard float64       `json:"guard_jaccard"`
	GuardNGram   int           `json:"guard_ngram"`
	Sources      []SourceTruth `json:"sources"`
	Planted      []Planted     `json:"planted"`
}

// SourceTruth is what one source of chimed.yaml holds.
type SourceTruth struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Role   string `json:"role"`
	Preset string `json:"preset,omitempty"`
	// Records is the number of raw records written across the source's
	// record files (broken ones included); Broken of them must be quarantined,
	// so ingest reads Records and writes Records-Broken.
	Records int64       `json:"records"`
	Broken  int64       `json:"broken"`
	Files   []FileTruth `json:"files"`
	// Note says what else a step will meet in the source that is not planted.
	Note string `json:"note,omitempty"`
}

// FileTruth is one raw file of a source.
type FileTruth struct {
	Path    string `json:"path"` // workspace-relative, slash-separated
	Records int64  `json:"records"`
	Broken  int64  `json:"broken"`
	Bytes   int64  `json:"bytes"`
	// Lookup marks a file whose rows are joined into another file's records
	// rather than being records themselves (cMedQA2's question.csv); its
	// rows are not counted in the source's Records.
	Lookup bool `json:"lookup,omitempty"`
}

// Loc is where a raw record is, in ingest's terms: the workspace-relative
// file; the 0-based ordinal of the record in the file, counting broken ones
// (CSV/TSV/XLSX data rows exclude the header, JSON arrays and objects count
// elements, MedDialog counts "id=" blocks); and the 1-based line the record
// starts on, 0 where the format has no lines (JSON arrays and objects,
// XLSX). Lines of a gzip'd file are lines of its decompressed text.
type Loc struct {
	Source string `json:"source"`
	File   string `json:"file"`
	Row    int64  `json:"row"`
	Line   int64  `json:"line,omitempty"`
}

// Planted is one planted record and what must happen to it.
type Planted struct {
	What   What       `json:"what"`
	Loc               // where it is
	Expect Expect     `json:"expect"`
	Class  ErrorClass `json:"class,omitempty"` // for Broken
	// Of is the other record of a pair: the original of a duplicate, the
	// near-distinct sibling, the eval record a contamination copies.
	Of      *Loc    `json:"of,omitempty"`
	Jaccard float64 `json:"jaccard,omitempty"` // character 5-gram Jaccard with Of
	PII     *PII    `json:"pii,omitempty"`
	// Needle is a piece of the record's decoded text that shows the planted
	// thing (the PII value, the copied eval question, a prefix of a long
	// record); tests look for it at Loc.
	Needle string `json:"needle,omitempty"`
	Note   string `json:"note,omitempty"`
}

// PII is one planted piece of personal data.
type PII struct {
	Type        PIIType `json:"type"`
	Value       string  `json:"value"`       // must not survive clean
	Placeholder string  `json:"placeholder"` // what clean should put instead
}

// LoadTruth reads DIR/demo-truth.json (or any path to such a file).
func LoadTruth(path string) (*Truth, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read demo truth: %w", err)
	}
	var t Truth
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &t, nil
}

// Source returns the truth of the named source, or nil.
func (t *Truth) Source(name string) *SourceTruth {
	for i := range t.Sources {
		if t.Sources[i].Name == name {
			return &t.Sources[i]
		}
	}
	return nil
}

// Select returns the planted records of one kind of trouble.
func (t *Truth) Select(w What) []Planted {
	var out []Planted
	for _, p := range t.Planted {
		if p.What == w {
			out = append(out, p)
		}
	}
	return out
}
