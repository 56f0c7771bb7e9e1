// Package stats explains a workspace with numbers people want to look at:
// what ingest read and quarantined, what clean removed and why, how many
// rows and tokens each stage holds per source, how long the texts are, what
// the knowledge graph and the dialogues look like. One Report struct is
// collected in one streaming pass over the Parquet files and the step
// reports, then rendered three ways: reports/stats.json for tools,
// reports/stats.md for people in a terminal or review, and
// reports/stats.html, one self-contained page of inline SVG charts.
//
// Inputs that are missing (a step not run yet) become notes; only a
// workspace with none of them is an error.
// Tokens are counted with the trainer's own tokenizer when the caller
// passes it (Options.Tokenizer), so a stage's size is the size training
// sees. Word counts use the one shared jieba (internal/segment); segmenting
// a whole corpus is slow, so past a cap only a deterministic sample of rows
// is segmented and word totals are estimated from it (Sampling says how).
// jieba words are words, never called tokens.
//
// Beside the step counters, the report reads clean/ and removed/ row by
// row (CorpusStats): quality distributions, category coverage, duplicate
// clusters, which source duplicates which, and sample rows per stage and
// per removal reason, PII-masked.
package stats

import "github.com/chimed/chimed/stages"

// Report is every number of the stats report.
type Report struct {
	// Workspace is the folder the report describes. It is not written
	// into the report: the same workspace in another folder gives the same
	// bytes.
	Workspace string `json:"-"`
	// Notes list missing inputs and how numbers were estimated.
	Notes    []string `json:"notes"`
	Sampling Sampling `json:"sampling"`
	// Tokenizer says which tokenizer counted StageStats.Tokens ("" when
	// none was given: token columns are then 0).
	Tokenizer string `json:"tokenizer"`

	// Sources is chimed.yaml's source list with licence and provenance.
	Sources []SourceInfo `json:"sources"`

	// Ingest is reports/ingest.json per source (read, written, quarantined, bytes).
	Ingest *Table `json:"ingest,omitempty"`
	// Quarantine counts quarantined records per raw file (quarantine/*.parquet).
	Quarantine []NameCount `json:"quarantine"`
	// Layers count rows per kind in normalized/ and clean/.
	Layers []LayerRows `json:"layers"`
	// Clean is reports/clean.json: kept/removed per source and why.
	Clean *CleanStats `json:"clean,omitempty"`
	// Stages describe every stage file set: the stage table's, eval/exam, eval/qa.
	Stages []StageStats `json:"stages"`
	// Flow is stages/manifest.json's account of every clean record per source.
	Flow     *Table         `json:"flow,omitempty"`
	Manifest *ManifestStats `json:"manifest,omitempty"`
	KG       *KGStats       `json:"kg,omitempty"`
	Dialogue *DialogueStats `json:"dialogue,omitempty"`
	// Corpus describes clean/ and removed/ row by row.
	Corpus *CorpusStats `json:"corpus,omitempty"`
}

// Sampling says how word counts were taken.
type Sampling struct {
	// Segmenter is "jieba" or "" when jieba's dictionaries were missing.
	Segmenter string `json:"segmenter"`
	// Cap rows of each stage are segmented in full; past it, rows whose id
	// hashes to 0 modulo Stride.
	Cap    int64 `json:"cap"`
	Stride int64 `json:"stride"`
}

// NameCount is a named count.
type NameCount struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// NameValue is a named number that need not be whole (a threshold).
type NameValue struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Table is a grid of numbers read from a step report: one row per source
// (and a totals row), one column per numeric key found.
type Table struct {
	Columns []string   `json:"columns"`
	Rows    []TableRow `json:"rows"`
}

// TableRow is one named row of a Table.
type TableRow struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// LayerRows counts the rows of one kind in one layer (normalized or clean).
type LayerRows struct {
	Layer string `json:"layer"`
	Kind  string `json:"kind"`
	Files int    `json:"files"`
	Rows  int64  `json:"rows"`
}

// CleanStats is what clean removed and rewrote.
type CleanStats struct {
	// Sources has in, kept and removed per source.
	Sources *Table `json:"sources"`
	// Reasons totals removed rows by reason over all sources.
	Reasons []NameCount `json:"reasons"`
	// ReasonsBySource has one column per reason.
	ReasonsBySource *Table `json:"reasons_by_source"`
	// Dedup gathers the removal reasons and near-dedup counters about duplicates.
	Dedup []NameCount `json:"dedup"`
	// PII counts masked personal data by type.
	PII []NameCount `json:"pii"`
	// Counters are every other number in clean.json (rewrite counts,
	// near-dedup parameters and counts), by dotted key.
	Counters []NameValue `json:"counters"`
}

// StageStats describes one stage's split files.
type StageStats struct {
	// Name is a stage of the stage table (dcpt, sft, …), eval/exam or eval/qa.
	Name  string      `json:"name"`
	Files []NameCount `json:"files"` // split (or file) → rows
	Rows  int64       `json:"rows"`
	Chars int64       `json:"chars"`
	// Tokens is the trainer tokenizer's count over every row (see
	// Report.Tokenizer): text fields encoded, plus a role marker and an end
	// marker per chat message.
	Tokens int64 `json:"tokens"`
	// Words is jieba words, estimated when not every row was segmented.
	Words       int64 `json:"words"`
	SampledRows int64 `json:"sampled_rows"`
	Estimated   bool  `json:"estimated"`
	// Sources break rows, characters and words down by source.
	Sources []SourceStats `json:"sources"`
	// Histograms of text length per field, in characters and in words.
	Histograms []Histogram `json:"histograms"`
	// Turns is the distribution of messages per row (sft only).
	Turns *Histogram `json:"turns,omitempty"`
	// Samples are a few rows of the stage, chosen by id hash.
	Samples []Sample `json:"samples"`
}

// SourceStats is one source's share of a stage.
type SourceStats struct {
	Source      string           `json:"source"`
	Rows        int64            `json:"rows"`
	SplitRows   map[string]int64 `json:"split_rows"`
	Chars       int64            `json:"chars"`
	Tokens      int64            `json:"tokens"`
	Words       int64            `json:"words"`
	SampledRows int64            `json:"sampled_rows"`
}

// ManifestStats is the part of stages/manifest.json worth showing.
type ManifestStats struct {
	Version      string             `json:"version"`
	Seed         uint64             `json:"seed"`
	ConfigSHA256 string             `json:"config_sha256"`
	LeakageCheck string             `json:"leakage_check"`
	Files        []stages.FileEntry `json:"files"`
	// RowsAgree says whether every stage and eval file holds the rows the
	// manifest says it does (absent when the manifest has no counts).
	RowsAgree *bool `json:"rows_agree,omitempty"`
}

// KGStats describes the knowledge graph.
type KGStats struct {
	// From says where the numbers come from (stages/kg_stats.json or clean/kg).
	From      string      `json:"from"`
	Triples   int64       `json:"triples"`
	Entities  int64       `json:"entities,omitempty"`
	Relations int64       `json:"relations"`
	Top       []NameCount `json:"top_relations"`
	Degree    []NameCount `json:"degree_distribution,omitempty"`
	Dropped   []NameCount `json:"dropped,omitempty"`
}

// DialogueStats describes clean/dialogue.
type DialogueStats struct {
	Dialogues int64       `json:"dialogues"`
	Turns     int64       `json:"turns"`
	Roles     []NameCount `json:"roles"`
	PerDialog Histogram   `json:"turns_per_dialogue"`
}
