package ingest

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/chimed/chimed/internal/workspace"
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

// Share is a proportion in chimed.yaml, written "5%", 0.05 or "0.05"; it
// lies between 0 and 1.
type Share float64

// UnmarshalYAML reads a percentage or a fraction.
func (r *Share) UnmarshalYAML(data []byte) error {
	s := strings.Trim(strings.TrimSpace(string(data)), `"'`)
	var v float64
	var err error
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err = strconv.ParseFloat(strings.TrimSpace(p), 64)
		v /= 100
	} else {
		v, err = strconv.ParseFloat(s, 64)
	}
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return fmt.Errorf("not a share between 0 and 1: %q (write 5%% or 0.05)", s)
	}
	*r = Share(v)
	return nil
}

// String writes the share as a percentage: "5%", "0.5%".
func (r Share) String() string {
	return strconv.FormatFloat(float64(r)*100, 'f', -1, 64) + "%"
}

// DefaultMaxQuarantine is the share of a source's records that may be
// quarantined before ingest fails, when the source sets no max_quarantine:
// a few broken records are normal in public data, a mapping that fits no
// record is not.
const DefaultMaxQuarantine Share = 0.05

// Source is one raw source in chimed.yaml: which files, how to read them, and
// how their fields become canonical columns of Kind. A Preset fills in
// everything but Name, Kind, Role and Paths for a known public format, and
// Format, which stays auto (sniffed) unless set here; keys given explicitly
// override the preset's.
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
	MaxRecordBytes ByteSize `yaml:"max_record_bytes"`
	// MaxQuarantine is the share of the source's records (lookup rows of
	// a join included) that may be quarantined; more fails ingest, naming
	// the source and its first errors, unless ingest runs with
	// --keep-going. Default DefaultMaxQuarantine (5%); 0 tolerates none,
	// 100% any.
	MaxQuarantine *Share `yaml:"max_quarantine"`
	// MaxMetaBytes caps one row's meta JSON (default 64 KiB). A row whose
	// unread raw fields make it longer keeps its provenance and mapping
	// notes, drops the largest leftover fields whole until it fits, lists
	// their names under "_meta_dropped" and is counted in the report's
	// meta_capped; its raw record is still at _file/_row.
	MaxMetaBytes ByteSize    `yaml:"max_meta_bytes"`
	CSV          CSVOptions  `yaml:"csv"`
	Text         TextOptions `yaml:"text"`
	JSON         JSONOptions `yaml:"json"`
	XLSX         XLSXOptions `yaml:"xlsx"`
	Map          Mapping     `yaml:"map"`

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
// listed) at any depth and nested as they were: reading "info.desc" keeps
// {"info": {"other": …}} in meta, so nothing of the record is lost. A list
// read only at some indices goes to meta whole. Source.MaxMetaBytes caps
// it (64 KiB by default; what it drops is named and counted). Meta also
// gets the provenance every row carries: "_file" (relative to the
// workspace), "_row" (0-based ordinal in the file), "_line" (1-based, for
// line-based formats) and "_each" (the element index under Each).
//
// The other keys, for shapes public datasets have: Options and AnswerIs
// read exam options from a cell with markers ("A. … B. …", "(A)…"), a
// list, an object ({"A": …} or {"opa": …}) or columns, and answers given
// as letters, option keys ("opb"), option texts or 0- or 1-based indices
// (MedMCQA's cop). Turns reads turn objects, [user, assistant] history
// pairs, alternating strings and strings with inline speaker markers
// ("患者：… 医生：…", "<user>: … <bot>: …"), plus a system turn and fixed
// final turns (alpaca with history). Steps strip or replace regular
// expressions in a mapped value and re-join hard-wrapped lines. A row's
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
	// AnswerIs says how an exam record's answer names its options: label
	// ("C", multi-answer "ABD" or "A, B"), key (the option's column or
	// object key: MedMCQA-style "opb"), text (the option's own text), index0
	// or index1 (its position among the option columns or list from 0 or 1:
	// MedMCQA's cop is index0). Unset, it is sniffed per record where that
	// is unambiguous: letters, then keys, then one option's text ("B.
	// 出血量" too); a bare number fails the record, since only index0 or
	// index1 can say which option it is.
	AnswerIs string `yaml:"answer_is"`
	// Relations fans one record out into triples: one per value of each
	// named field, with Fields["head"] as the head.
	Relations []RelationMapping `yaml:"relations"`
	// Meta lists raw fields to keep in the meta column; empty keeps every
	// field, at any depth, that no other mapping used.
	Meta []string `yaml:"meta"`
	// Steps rewrite mapped values before they are checked and written, by
	// canonical column ("question", "text", …), "turns" (every turn's
	// content) or "options" (every option's text): each a list of Step,
	// run in order, e.g. {question: [{strip: '^<s>问：\s*'}], text:
	// [{strip: '</?(篇名|目录)>'}, {unwrap: true}]}. A rewritten value is
	// trimmed; a turn left empty is no turn, an option left empty fails
	// the record.
	Steps map[string][]Step `yaml:"steps"`
	// Join pairs the records of two kinds of file of this source by a key
	// (cMedQA2 questions and answers); see JoinMapping.
	Join *JoinMapping `yaml:"join"`
}

// TurnsMapping describes where a conversation's turns are: a system turn
// (System), then the turns under Path, then the Fixed ones, so that an
// alpaca-with-history record is {system: system, path: history, fixed:
// [{role: user, content: "instruction + '\n' + input"}, {role: assistant,
// content: output}]}.
type TurnsMapping struct {
	// Path leads to the turns, which may be
	//   - a list of turn objects ({"from","value"}, {"role","content"}),
	//     read with Role and Content;
	//   - a list of [user, assistant] pairs (alpaca "history");
	//   - a list of strings, each starting with a speaker marker ("病人：…"),
	//     or, with Alternate, plain strings whose roles alternate;
	//   - one string of turns with inline speaker markers ("患者：… 医生：…",
	//     "<user>: … <bot>: …").
	// Strings are split at every speaker marker: a name of Roles (or of
	// the default set 患者 病人 用户 user human → user, 医生 大夫 bot
	// assistant gpt → assistant) followed by a full- or half-width colon,
	// or in <>, [] or 【】 brackets with or without one. An unbracketed
	// name is a marker only at the start, after white space or after
	// sentence punctuation, so "我问了医生：" is none. The markers are
	// removed and consecutive stretches of one speaker merged. Beside
	// Fixed, a missing Path means no earlier turns.
	Path    string `yaml:"path"`
	Role    string `yaml:"role"`    // field of a turn object naming the speaker
	Content string `yaml:"content"` // field of a turn object holding the text
	// Roles maps a speaker name or marker to user, assistant or system
	// ({"human": user, "gpt": assistant, "病人": user, "医生": assistant}),
	// or to skip for lines that are no turn (kept in meta "skipped_turns").
	// Without Roles, turn objects must name user, assistant or system and
	// strings are split on the default markers; a speaker missing from
	// Roles fails the record.
	Roles map[string]string `yaml:"roles"`
	// Alternate is the role of the first of a list of plain strings
	// (user or assistant); the roles then alternate. Markers are not
	// looked for.
	Alternate string `yaml:"alternate"`
	// Preamble is the role of text before a string's first marker: user,
	// assistant, system or skip (to meta "skipped_turns"). Unset, it is
	// user when the first marker is the assistant's (the patient's words
	// came unmarked) and skip otherwise (a heading), and a string with no
	// marker at all fails the record.
	Preamble string `yaml:"preamble"`
	// System is an expression giving a system turn put first, when not empty.
	System string `yaml:"system"`
	// Fixed builds turns from record fields, after Path's:
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
	// Path is one of:
	//   - one cell holding every option, one a line ("A 原发病\nB 出血部位",
	//     labels "A", "A.", "A、", "A:", "A)", "(A)") or, when that gives
	//     fewer than two, marked inline ("A. 原发病 B. 出血部位", "(A)…(B)…",
	//     where "B." counts only after a space or separator, not in
	//     "维生素B.");
	//   - a list of strings, labelled like that or lettered A, B, C… in order;
	//   - an object: {"A": …, "B": …} (CMB) by its letters, any other keys
	//     ({"opa": …}, {"option1": …}) lettered in their natural order.
	// Empty options are left out; their letters are not reused.
	Path string `yaml:"path"`
	// Separator splits a single cell into options; default a newline. The
	// CMExam XLSX uses the two characters backslash and n.
	Separator string `yaml:"separator"`
	// Columns names one column per option, labelled A, B, C… in order
	// (CMMLU: [A, B, C, D]; MedMCQA: [opa, opb, opc, opd]); an answer may
	// name the column (answer_is: key).
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
	if err := workspace.CheckName(s.Name); err != nil {
		return fmt.Errorf("sources[%s].name: %w", strconv.Quote(s.Name), err)
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
	// The mapping's keys (expressions, regular expressions, roles,
	// answer_is) are checked here so chimed.yaml fails as it is read,
	// naming the key; whether the mapping is complete is ingest's check.
	src, err := ApplyPreset(*s)
	if err != nil {
		return err
	}
	if _, err := compileKeys(&src); err != nil {
		return err
	}
	return nil
}

// QuarantineLimit is the source's max_quarantine, or the default.
func (s *Source) QuarantineLimit() Share {
	if s.MaxQuarantine == nil {
		return DefaultMaxQuarantine
	}
	return *s.MaxQuarantine
}

// licenseID is the shape of a Hugging Face licence id: lowercase, as the
// hub's dataset cards require, e.g. cc-by-nc-sa-4.0 or openrail++.
var licenseID = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*$`)

// IsEval reports whether the source is a held-out evaluation set.
func (s *Source) IsEval() bool { return s.Role == RoleEval }
