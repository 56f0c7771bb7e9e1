package clean

import (
	"fmt"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// lengthFilter removes rows whose fields are too short or too long, counted
// in characters (runes) after normalisation. Bounds are per field name, so
// one step covers every kind ("question" is the same field in qa and exam);
// the name "*" bounds the sum of all text fields of the row.
//
//   - use: length
//     kinds: [qa]
//     with: {min: {question: 4, answer: 2}, max: {"*": 20000}}
//
// Reasons: "too_short", "too_long"; the detail names the field.
type lengthFilter struct {
	min, max map[string]int
}

type lengthSettings struct {
	Min map[string]int `yaml:"min"`
	Max map[string]int `yaml:"max"`
}

// defaultLength bounds apply to fields a configuration does not mention.
var defaultLength = lengthSettings{
	Min: map[string]int{"question": 2, "answer": 1, "text": 10, "prompt": 2, "chosen": 1, "rejected": 1,
		"head": 1, "relation": 1, "tail": 1, "*": 2},
	Max: map[string]int{"head": 200, "tail": 2000, "relation": 100, "question": 20000, "*": 200000},
}

func init() {
	register("length", allKinds, func(decode func(any) error) (any, error) {
		var s lengthSettings
		if err := decode(&s); err != nil {
			return nil, err
		}
		f := &lengthFilter{min: map[string]int{}, max: map[string]int{}}
		for k, v := range defaultLength.Min {
			f.min[k] = v
		}
		for k, v := range defaultLength.Max {
			f.max[k] = v
		}
		for _, k := range sortedKeys(s.Min) {
			v := s.Min[k]
			if v < 0 {
				return nil, fmt.Errorf("length: min.%s: %d is negative", k, v)
			}
			f.min[k] = v
		}
		for _, k := range sortedKeys(s.Max) {
			v := s.Max[k]
			if v < 1 {
				return nil, fmt.Errorf("length: max.%s: %d is not positive", k, v)
			}
			f.max[k] = v
		}
		return f, nil
	})
}

// Check implements Filter.
func (f *lengthFilter) Check(r schemas.Record) (string, string) {
	return f.check(r.TextFields(), func(i int, v string) int { return utf8.RuneCountInString(v) })
}

// CheckProfiled implements ProfiledFilter: the lengths are the Profiles'.
func (f *lengthFilter) CheckProfiled(fields []schemas.Field, profiles []Profile) (string, string) {
	return f.check(fields, func(i int, _ string) int { return profiles[i].Runes })
}

// check applies the bounds to fields, whose lengths in runes count gives.
func (f *lengthFilter) check(fields []schemas.Field, count func(i int, v string) int) (string, string) {
	total := 0
	for i, fl := range fields {
		n := count(i, *fl.Value)
		total += n
		if m, ok := f.min[fl.Name]; ok && n < m {
			return "too_short", fl.Name
		}
		if m, ok := f.max[fl.Name]; ok && n > m {
			return "too_long", fl.Name
		}
	}
	if total < f.min["*"] {
		return "too_short", "*"
	}
	if m, ok := f.max["*"]; ok && total > m {
		return "too_long", "*"
	}
	return "", ""
}
