package stats

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/chimed/chimed/clean"
)

// samplesPer is how many rows are shown per stage and per removal reason.
const samplesPer = 5

// sampleChars is how many characters of a field a sample shows; the rest
// is counted in SampleField.Cut, never dropped without saying so.
const sampleChars = 300

// Sample is one row shown as text, so a reader sees what the numbers are
// about. Text is PII-masked: stage rows were masked by clean, and removed
// rows (kept as read) are masked here with clean's own masker.
type Sample struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Kind   string `json:"kind,omitempty"`
	Split  string `json:"split,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Detail is what a removed row matched: the kept row's id for a
	// duplicate, the eval row's id for a contaminated row, the field for a
	// length filter.
	Detail string        `json:"detail,omitempty"`
	Fields []SampleField `json:"fields"`
	// Matched is the row Detail names, when it is a row stats found.
	Matched *Sample `json:"matched,omitempty"`
	// Perplexity is the row's per-character perplexity under the reference
	// model, for the perplexity section's rows.
	Perplexity float64 `json:"perplexity,omitempty"`

	hash uint64 // the sampling key: the smallest hashes are kept
	file string // removed/ part file the row is in
}

// SampleField is one text field of a sample.
type SampleField struct {
	Name string `json:"name"`
	Text string `json:"text"`
	// Cut counts the characters past sampleChars that are not shown.
	Cut int `json:"cut,omitempty"`
}

// sampleField masks and shortens one field for display.
func sampleField(name, text string, mask bool) SampleField {
	if mask {
		text = clean.MaskPII(text)
	}
	n := utf8.RuneCountInString(text)
	if n <= sampleChars {
		return SampleField{Name: name, Text: text}
	}
	return SampleField{Name: name, Text: string([]rune(text)[:sampleChars]), Cut: n - sampleChars}
}

// sampler keeps the k rows with the smallest id hashes it is offered: a
// deterministic sample spread over the whole input whatever its order.
type sampler struct {
	k    int
	rows []Sample
}

// wants tells whether a row of this hash would be kept, so the caller
// builds a Sample only for rows that are.
func (s *sampler) wants(hash uint64) bool {
	return len(s.rows) < s.k || hash < s.rows[len(s.rows)-1].hash
}

// add keeps row if it is among the k smallest hashes seen.
func (s *sampler) add(row Sample) {
	if !s.wants(row.hash) {
		return
	}
	i, _ := slices.BinarySearchFunc(s.rows, row, func(a, b Sample) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.ID, b.ID))
	})
	s.rows = slices.Insert(s.rows, i, row)
	if len(s.rows) > s.k {
		s.rows = s.rows[:s.k]
	}
}
