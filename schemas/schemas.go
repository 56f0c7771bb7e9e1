// Package schemas is the one place that defines a chimed record: the canonical
// row of every raw-data kind (text, qa, kg, dialogue, preference, exam), the row
// of every stage file (dcpt, sft, dpo, eval), and how both are stored.
//
// Storage uses two libraries, each where it fits:
//   - parquet-go writes and reads our own files from these Go structs
//     (PartWriter, ReadFile, ReadDir): typed, streaming, zstd-compressed.
//     A []Turn field with the `list` tag is a Parquet LIST of structs, which
//     Arrow, DuckDB, pandas and HF datasets read as list<struct<role,content>>.
//   - arrow/go v17 describes the same columns as Arrow schemas (ArrowSchema)
//     for readers of foreign Parquet files whose columns we do not know in
//     advance (ingest of Parquet sources) and for columnar statistics; a test
//     checks the two libraries agree on every schema.
package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	gojson "github.com/goccy/go-json"
)

// Kind names a kind of raw data; it is also the folder name under
// normalized/ and clean/.
type Kind string

// The six kinds of canonical record.
const (
	KindText       Kind = "text"
	KindQA         Kind = "qa"
	KindKG         Kind = "kg"
	KindDialogue   Kind = "dialogue"
	KindPreference Kind = "preference"
	KindExam       Kind = "exam"
)

// Kinds lists every kind in the fixed order reports and folders use.
var Kinds = []Kind{KindText, KindQA, KindKG, KindDialogue, KindPreference, KindExam}

// ParseKind checks that s names a kind.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q (want one of text, qa, kg, dialogue, preference, exam)", s)
}

// Roles of a dialogue turn or chat message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Field is a named pointer to one free-text value inside a record, so that
// normalisers, filters and PII maskers can work on every kind alike.
// Name is the column ("question", "turns.content", "options.text").
type Field struct {
	Name  string
	Value *string
}

// Record is what every canonical row offers the generic steps (clean, stats).
type Record interface {
	// Kind says which kind the row is.
	Kind() Kind
	// RecordID is the row's stable id.
	RecordID() string
	// RecordSource is the source name from chimed.yaml.
	RecordSource() string
	// TextFields lists every free-text value in a fixed order.
	TextFields() []Field
	// SetCluster records the near-duplicate cluster id assigned by clean.
	SetCluster(string)
	// ClusterID returns the cluster id ("" before clean).
	ClusterID() string
}

// Text is a plain medical document: a textbook paragraph, an encyclopedia entry.
type Text struct {
	ID      string `parquet:"id" json:"id"`
	Source  string `parquet:"source" json:"source"`
	Title   string `parquet:"title" json:"title"`
	Text    string `parquet:"text" json:"text"`
	Meta    string `parquet:"meta" json:"meta"`
	Cluster string `parquet:"cluster" json:"cluster"`
}

// QA is one medical question with one answer.
type QA struct {
	ID       string `parquet:"id" json:"id"`
	Source   string `parquet:"source" json:"source"`
	Question string `parquet:"question" json:"question"`
	Answer   string `parquet:"answer" json:"answer"`
	Category string `parquet:"category" json:"category"`
	Meta     string `parquet:"meta" json:"meta"`
	Cluster  string `parquet:"cluster" json:"cluster"`
}

// Triple is one knowledge-graph fact: head —relation→ tail.
type Triple struct {
	ID       string `parquet:"id" json:"id"`
	Source   string `parquet:"source" json:"source"`
	Head     string `parquet:"head" json:"head"`
	Relation string `parquet:"relation" json:"relation"`
	Tail     string `parquet:"tail" json:"tail"`
	HeadType string `parquet:"head_type" json:"head_type"`
	TailType string `parquet:"tail_type" json:"tail_type"`
	Meta     string `parquet:"meta" json:"meta"`
	Cluster  string `parquet:"cluster" json:"cluster"`
}

// Turn is one utterance of a dialogue or one chat message; Role is one of
// RoleUser, RoleAssistant, RoleSystem.
type Turn struct {
	Role    string `parquet:"role" json:"role"`
	Content string `parquet:"content" json:"content"`
}

// Dialogue is a doctor–patient conversation.
type Dialogue struct {
	ID      string `parquet:"id" json:"id"`
	Source  string `parquet:"source" json:"source"`
	Turns   []Turn `parquet:"turns,list" json:"turns"`
	Meta    string `parquet:"meta" json:"meta"`
	Cluster string `parquet:"cluster" json:"cluster"`
}

// PreferencePair is a prompt with a preferred and a dispreferred response.
type PreferencePair struct {
	ID       string `parquet:"id" json:"id"`
	Source   string `parquet:"source" json:"source"`
	Prompt   string `parquet:"prompt" json:"prompt"`
	Chosen   string `parquet:"chosen" json:"chosen"`
	Rejected string `parquet:"rejected" json:"rejected"`
	Meta     string `parquet:"meta" json:"meta"`
	Cluster  string `parquet:"cluster" json:"cluster"`
}

// Option is one labelled choice of an exam question.
type Option struct {
	Label string `parquet:"label" json:"label"`
	Text  string `parquet:"text" json:"text"`
}

// ExamQuestion is a CMExam-style multiple-choice question. Answer holds the
// correct labels in order, e.g. "C" or "ABD".
type ExamQuestion struct {
	ID          string   `parquet:"id" json:"id"`
	Source      string   `parquet:"source" json:"source"`
	Question    string   `parquet:"question" json:"question"`
	Options     []Option `parquet:"options,list" json:"options"`
	Answer      string   `parquet:"answer" json:"answer"`
	Explanation string   `parquet:"explanation" json:"explanation"`
	Meta        string   `parquet:"meta" json:"meta"`
	Cluster     string   `parquet:"cluster" json:"cluster"`
}

// Kind implements Record.
func (*Text) Kind() Kind { return KindText }

// Kind implements Record.
func (*QA) Kind() Kind { return KindQA }

// Kind implements Record.
func (*Triple) Kind() Kind { return KindKG }

// Kind implements Record.
func (*Dialogue) Kind() Kind { return KindDialogue }

// Kind implements Record.
func (*PreferencePair) Kind() Kind { return KindPreference }

// Kind implements Record.
func (*ExamQuestion) Kind() Kind { return KindExam }

// RecordID implements Record.
func (r *Text) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *QA) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *Triple) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *Dialogue) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *PreferencePair) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *ExamQuestion) RecordID() string { return r.ID }

// RecordSource implements Record.
func (r *Text) RecordSource() string { return r.Source }

// RecordSource implements Record.
func (r *QA) RecordSource() string { return r.Source }

// RecordSource implements Record.
func (r *Triple) RecordSource() string { return r.Source }

// RecordSource implements Record.
func (r *Dialogue) RecordSource() string { return r.Source }

// RecordSource implements Record.
func (r *PreferencePair) RecordSource() string { return r.Source }

// RecordSource implements Record.
func (r *ExamQuestion) RecordSource() string { return r.Source }

// SetCluster implements Record.
func (r *Text) SetCluster(c string) { r.Cluster = c }

// SetCluster implements Record.
func (r *QA) SetCluster(c string) { r.Cluster = c }

// SetCluster implements Record.
func (r *Triple) SetCluster(c string) { r.Cluster = c }

// SetCluster implements Record.
func (r *Dialogue) SetCluster(c string) { r.Cluster = c }

// SetCluster implements Record.
func (r *PreferencePair) SetCluster(c string) { r.Cluster = c }

// SetCluster implements Record.
func (r *ExamQuestion) SetCluster(c string) { r.Cluster = c }

// ClusterID implements Record.
func (r *Text) ClusterID() string { return r.Cluster }

// ClusterID implements Record.
func (r *QA) ClusterID() string { return r.Cluster }

// ClusterID implements Record.
func (r *Triple) ClusterID() string { return r.Cluster }

// ClusterID implements Record.
func (r *Dialogue) ClusterID() string { return r.Cluster }

// ClusterID implements Record.
func (r *PreferencePair) ClusterID() string { return r.Cluster }

// ClusterID implements Record.
func (r *ExamQuestion) ClusterID() string { return r.Cluster }

// TextFields implements Record.
func (r *Text) TextFields() []Field {
	return []Field{{"title", &r.Title}, {"text", &r.Text}}
}

// TextFields implements Record.
func (r *QA) TextFields() []Field {
	return []Field{{"question", &r.Question}, {"answer", &r.Answer}, {"category", &r.Category}}
}

// TextFields implements Record.
func (r *Triple) TextFields() []Field {
	return []Field{{"head", &r.Head}, {"relation", &r.Relation}, {"tail", &r.Tail},
		{"head_type", &r.HeadType}, {"tail_type", &r.TailType}}
}

// TextFields implements Record.
func (r *Dialogue) TextFields() []Field {
	fs := make([]Field, len(r.Turns))
	for i := range r.Turns {
		fs[i] = Field{"turns.content", &r.Turns[i].Content}
	}
	return fs
}

// TextFields implements Record.
func (r *PreferencePair) TextFields() []Field {
	return []Field{{"prompt", &r.Prompt}, {"chosen", &r.Chosen}, {"rejected", &r.Rejected}}
}

// TextFields implements Record.
func (r *ExamQuestion) TextFields() []Field {
	fs := []Field{{"question", &r.Question}}
	for i := range r.Options {
		fs = append(fs, Field{"options.text", &r.Options[i].Text})
	}
	return append(fs, Field{"explanation", &r.Explanation})
}

// StableID derives a record id from where the record came from (source name,
// file path relative to the workspace, ordinal, sub-index...): the same input
// always gives the same id, and two records never share one. 16 hex digits.
func StableID(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0x1f})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// StableIDAt is StableID for the common case of a record at an ordinal
// position in a file, with an optional sub-index for records that fan out
// (many triples from one JSON object); pass sub < 0 for none.
func StableIDAt(source, file string, ordinal int64, sub int) string {
	if sub < 0 {
		return StableID(source, file, strconv.FormatInt(ordinal, 10))
	}
	return StableID(source, file, strconv.FormatInt(ordinal, 10), strconv.Itoa(sub))
}

// MetaJSON renders fields that have no column as the meta column's JSON text,
// with sorted keys so the same record always gives the same bytes. An empty
// map gives "{}".
func MetaJSON(fields map[string]any) string {
	if len(fields) == 0 {
		return "{}"
	}
	// goccy/go-json writes the same bytes as encoding/json here (sorted map
	// keys, the same escaping) in about a third of the time: ingest spent an
	// eighth of its CPU in this call.
	b, err := gojson.Marshal(fields)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"unencodable_meta": fmt.Sprint(fields)})
	}
	return string(b)
}
