package ingest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/chimed/chimed/schemas"
)

// Role says what a source is for: training data (the default) or a held-out
// evaluation set, which build-stages keeps out of every training stage and
// clean uses for decontamination.
type Role string

// Source roles.
const (
	RoleTrain Role = "train"
	RoleEval  Role = "eval"
)

// Format names a raw file format. FormatAuto sniffs it from content.
type Format string

// Raw formats ingest reads; each may also be gzip'd.
const (
	FormatAuto    Format = "auto"
	FormatJSONL   Format = "jsonl"
	FormatJSON    Format = "json" // a JSON array of records, or an object of records
	FormatCSV     Format = "csv"
	FormatTSV     Format = "tsv"
	FormatText    Format = "text"
	FormatXLSX    Format = "xlsx"
	FormatParquet Format = "parquet"
)

// ByteSize is a size in chimed.yaml, written "8MiB", "1 MB" or 1048576.
type ByteSize int64

// UnmarshalYAML reads a human-readable size.
func (b *ByteSize) UnmarshalYAML(data []byte) error {
	s := strings.Trim(strings.TrimSpace(string(data)), `"'`)
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("not a size: %q", s)
	}
	*b = ByteSize(n)
	return nil
}

// Source is one raw source in chimed.yaml: which files, how to read them, and
// how their fields become canonical columns of Kind. A Preset fills in
// everything but Name, Kind, Role and Paths for a known public format; keys
// given explicitly override the preset's.
type Source struct {
	Name     string       `yaml:"name"`
	Kind     schemas.Kind `yaml:"kind"`
	Role     Role         `yaml:"role"`     // train (default) | eval
	Paths    []string     `yaml:"paths"`    // globs, relative to the workspace unless absolute
	Preset   string       `yaml:"preset"`   // a named public format; see Presets
	Format   Format       `yaml:"format"`   // default auto
	Encoding string       `yaml:"encoding"` // auto (default) | utf-8 | gbk | gb18030 | utf-16 | utf-16le | utf-16be
	// MaxRecordBytes caps one raw record (a line, a CSV row, a JSON element);
	// a longer one is quarantined, never truncated. Default 16 MiB.
	MaxRecordBytes ByteSize    `yaml:"max_record_bytes"`
	CSV            CSVOptions  `yaml:"csv"`
	Text           TextOptions `yaml:"text"`
	JSON           JSONOptions `yaml:"json"`
	XLSX           XLSXOptions `yaml:"xlsx"`
	Map            Mapping     `yaml:"map"`

	// License is the licence the source's data is published under, as a
	// lowercase Hugging Face / SPDX id ("apache-2.0", "cc-by-nc-sa-4.0",
	// "mit", "other"). It is optional and read only by `chimed export
	// --format hf`, whose dataset card lists each source's licence and
	// derives the card's license: from them, so a published dataset says
	// what terms its parts came under; a source without one counts as
	// "unknown".
	License string `yaml:"license"`
	// URL is where the source was obtained (its hub page or repository), an
	// absolute http(s) address. Optional; the hf export's dataset card links
	// each source to it as provenance.
	URL string `yaml:"url"`
}

// CSVOptions tune the CSV and TSV reader.
type CSVOptions struct {
	Delimiter  string   `yaml:"delimiter"`   // default "," for csv, "\t" for tsv
	Header     *bool    `yaml:"header"`      // the first row names the columns (default true)
	Columns    []string `yaml:"columns"`     // column names for a file without a header
	LazyQuotes *bool    `yaml:"lazy_quotes"` // accept bare quotes inside fields (default true)
}

// TextOptions tune the plain-text reader. A text record's raw fields are
// "text" (the whole record), "head" (its first line) and "body" (the rest).
type TextOptions struct {
	// Split is how records are cut: "line" (default, one per line), "blank"
	// (blocks separated by one or more blank lines) or "pattern" (a record
	// starts at each line matching Pattern).
	Split   string `yaml:"split"`
	Pattern string `yaml:"pattern"`
	// Parser turns a record's text into structured raw fields for formats with
	// an inner structure: "" (none) or "meddialog" (id=, URL, Description,
	// Dialogue sections with 病人：/医生： speaker lines).
	Parser string `yaml:"parser"`
}

// JSONOptions tune the JSON reader.
type JSONOptions struct {
	// Records is the path to the array or object of records inside a JSON
	// document ("data.items"); "" means the document itself.
	Records string `yaml:"records"`
}

// XLSXOptions tune the XLSX reader.
type XLSXOptions struct {
	Sheet   string   `yaml:"sheet"`   // default: the first sheet
	Header  *bool    `yaml:"header"`  // default true
	Columns []string `yaml:"columns"` // names for a sheet without a header row
}

// Mapping turns one raw record (a JSON object, a CSV row keyed by header, a
// text block's fields) into canonical rows of the source's kind.
//
// Fields maps a canonical column (question, answer, text, head, prompt, …) to
// an expression: a path into the raw record ("Question", "instruction[0]",
// "object.@value", "Disease Group", "cure_department[-1]", `["a.b"]` for a
// key holding . [ ] + | ' " ( or )), a single-quoted literal ('，', '\n'),
// several joined with "+" ("title + '，' + ask"; a literal between two paths
// appears only when both have values), alternatives with "|" (the first
// non-empty: "instruction[0] | questions"), and dedup(…), which drops a value
// the next one already starts with. A path that ends at a list of strings
// yields them joined by a newline. The grammar is in expr.go. A path missing
// from one record leaves its column empty, and a record whose required
// columns are empty (qa: question and answer; kg: head, relation, tail;
// preference: prompt, chosen, rejected; exam: question, answer labels among
// ≥2 options; text: text; dialogue: ≥1 turn) goes to quarantine with the
// reason; a mapping that could never fill them fails at load time.
//
// Fields no expression reads go to the row's meta (with Meta, only those
// listed), plus the provenance every row carries: "_file" (workspace-
// relative), "_row" (0-based ordinal in the file), "_line" (1-based, for
// line-based formats) and "_each" (the element index under Each). A row's
// id is schemas.StableIDAt(source, _file, _row, sub), sub being the row's
// index among the rows its record gave when the mapping fans out (Each,
// Relations), else -1.
type Mapping struct {
	// Each is a path to a list in the record: one canonical row is made per
	// element, with Fields resolved against the element; a path starting
	// with "$." resolves against the whole record instead.
	Each   string            `yaml:"each"`
	Fields map[string]string `yaml:"fields"`
	// Turns builds a dialogue's turns, or an SFT-style QA/preference record's
	// conversation (see TurnsMapping).
	Turns *TurnsMapping `yaml:"turns"`
	// Options builds an exam question's options.
	Options *OptionsMapping `yaml:"options"`
	// Relations fans one record out into triples: one per value of each
	// named field, with Fields["head"] as the head.
	Relations []RelationMapping `yaml:"relations"`
	// Meta lists raw fields to keep in the meta column; empty keeps every
	// top-level field that no other mapping used.
	Meta []string `yaml:"meta"`
	// Join pairs the records of two kinds of file of this source by a key
	// (cMedQA2 questions and answers); see JoinMapping.
	Join *JoinMapping `yaml:"join"`
}

// TurnsMapping describes where a conversation's turns are.
type TurnsMapping struct {
	// Path is a list of turn objects ({"from","value"}, {"role","content"})
	// or of strings with a speaker prefix ("病人：…").
	Path    string `yaml:"path"`
	Role    string `yaml:"role"`    // field of a turn object naming the speaker
	Content string `yaml:"content"` // field of a turn object holding the text
	// Roles maps a speaker name or prefix to user, assistant or system
	// ({"human": user, "gpt": assistant, "病人": user, "医生": assistant}),
	// or to skip for lines that are no turn (kept in meta "skipped_turns").
	// Without Roles, turn objects must name user, assistant or system; a
	// speaker missing from Roles fails the record.
	Roles map[string]string `yaml:"roles"`
	// Fixed builds turns from record fields instead of a list:
	// [{role: user, content: "title + '，' + ask"}, {role: assistant, content: answer}].
	Fixed []FixedTurn `yaml:"fixed"`
}

// FixedTurn is one turn built from an expression over the record.
type FixedTurn struct {
	Role    string `yaml:"role"`
	Content string `yaml:"content"`
}

// OptionsMapping describes where an exam question's options are.
type OptionsMapping struct {
	// Path is one cell holding every option ("A 原发病\nB 出血部位…"), a list
	// of strings, or an object {"A": …, "B": …}.
	Path string `yaml:"path"`
	// Separator splits a single cell into options; default a newline. The
	// CMExam XLSX uses the two characters backslash and n.
	Separator string `yaml:"separator"`
	// Columns names one column per option, labelled A, B, C… in order
	// (CMMLU: [A, B, C, D]).
	Columns []string `yaml:"columns"`
}

// RelationMapping turns the values of one raw field into triples.
type RelationMapping struct {
	Field    string `yaml:"field"`    // path to a string or list of strings: the tails
	Relation string `yaml:"relation"` // relation name for these triples
	HeadType string `yaml:"head_type"`
	TailType string `yaml:"tail_type"`
	// Head, if set, is an expression giving these triples' head instead of
	// Fields["head"]; a record where it is empty gives none of them.
	Head string `yaml:"head"`
	// Pattern, if set, is a regexp applied to each value, whose named groups
	// (?P<head>…) and (?P<tail>…) replace the head and the tail ("厂商(药名)"
	// → producer —drugs_of→ drug). A value it does not match fails the record.
	Pattern string `yaml:"pattern"`
}

// Validate checks the keys every source needs, naming the source and key.
func (s *Source) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("sources: a source has no name")
	}
	if _, err := schemas.ParseKind(string(s.Kind)); err != nil {
		return fmt.Errorf("sources[%s].kind: %w", s.Name, err)
	}
	switch s.Role {
	case "", RoleTrain, RoleEval:
	default:
		return fmt.Errorf("sources[%s].role: %q is not train or eval", s.Name, s.Role)
	}
	if len(s.Paths) == 0 {
		return fmt.Errorf("sources[%s].paths: no files named", s.Name)
	}
	switch s.Format {
	case "", FormatAuto, FormatJSONL, FormatJSON, FormatCSV, FormatTSV, FormatText, FormatXLSX, FormatParquet:
	default:
		return fmt.Errorf("sources[%s].format: unknown format %q", s.Name, s.Format)
	}
	if s.License != "" && !licenseID.MatchString(s.License) {
		return fmt.Errorf("sources[%s].license: %q is not a licence id: want lowercase letters, digits and . + - as Hugging Face lists them (apache-2.0, cc-by-4.0, mit, other)", s.Name, s.License)
	}
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("sources[%s].url: %q is not an absolute http(s) address", s.Name, s.URL)
		}
	}
	return nil
}

// licenseID is the shape of a Hugging Face licence id: lowercase, as the
// hub's dataset cards require, e.g. cc-by-nc-sa-4.0 or openrail++.
var licenseID = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*$`)

// IsEval reports whether the source is a held-out evaluation set.
func (s *Source) IsEval() bool { return s.Role == RoleEval }
