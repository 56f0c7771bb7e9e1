package clean

import (
	"maps"
	"slices"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// Normaliser rewrites one free-text value of a record. It counts every
// rewrite it makes in t under its own counter names (e.g. "html",
// "pii.phone"); those counts are what reports/clean.json shows. A
// normaliser never removes a row.
type Normaliser interface {
	Normalise(field, s string, t Tally) string
}

// Filter decides whether a record stays. It returns a reason code (and a
// detail such as the field that failed) to remove the record, or "" to keep
// it. Filters see the record after every normaliser has run.
type Filter interface {
	Check(r schemas.Record) (reason, detail string)
}

// Skipper is a Normaliser that can tell from a value's Profile that it
// would return the value as it is, so the engine need not call Normalise.
// CanSkip must be true only where Normalise changes nothing; a component's
// own tests hold it to that.
type Skipper interface {
	CanSkip(p *Profile) bool
}

// ProfiledFilter is a Filter that can decide from a record's text fields
// (TextFields) and the Profiles of their final values, with the answer
// Check gives.
type ProfiledFilter interface {
	CheckProfiled(fields []schemas.Field, profiles []Profile) (reason, detail string)
}

// Tally counts rewrites by name. Each worker fills its own; they are summed
// at the end, so counts do not depend on scheduling.
type Tally map[string]int64

// Add counts n rewrites named name (nothing when n is 0).
func (t Tally) Add(name string, n int) {
	if n != 0 {
		t[name] += int64(n)
	}
}

// Merge adds every count of o into t.
func (t Tally) Merge(o Tally) {
	for k, v := range o {
		t[k] += v
	}
}

// factory makes one registered component from its `with:` settings.
type factory struct {
	// kinds the component runs on when chimed.yaml names none.
	kinds []schemas.Kind
	// build decodes settings with decode (strict YAML into a typed struct)
	// and returns a Normaliser or a Filter.
	build func(decode func(v any) error) (any, error)
}

// registry holds every component by name; each component's file registers
// itself in an init function, so adding a component is adding one file.
var registry = map[string]factory{}

func register(name string, kinds []schemas.Kind, build func(decode func(v any) error) (any, error)) {
	if _, dup := registry[name]; dup {
		panic("clean: component registered twice: " + name) // programming error, not input
	}
	registry[name] = factory{kinds: kinds, build: build}
}

// allKinds is the default for components that apply to every kind.
var allKinds = schemas.Kinds

// textKinds are the kinds made of running prose (not KG triples).
var textKinds = []schemas.Kind{schemas.KindText, schemas.KindQA, schemas.KindDialogue, schemas.KindPreference, schemas.KindExam}

// defaultOrder is the order components run in when chimed.yaml lists none:
// markup and invisible characters first so later steps see plain text,
// Unicode and width folding before whitespace, wrappers and sign-offs,
// PII masking on the tidy text, then the filters.
var defaultOrder = []string{
	"html", "invisible", "unicode", "width", "whitespace", "wrappers", "signoffs", "pii",
	"length", "cjk_ratio", "repetition", "answer_ratio", "dialogue_roles", "exam_answer",
}

// DefaultSteps is the step list used when chimed.yaml's clean.steps is empty.
func DefaultSteps() []Step {
	steps := make([]Step, len(defaultOrder))
	for i, n := range defaultOrder {
		steps[i] = Step{Use: n}
	}
	return steps
}

// sortedKeys lists a map's keys in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// joinSorted renders a set for error messages.
func joinSorted(m map[string]bool) string { return strings.Join(sortedKeys(m), ", ") }
