package stages

import (
	"fmt"
	"slices"

	"github.com/chimed/chimed/schemas"
)

// A Builder makes one stage's rows from the clean training records of one
// kind. Build offers it every record of that kind that trains at all: not
// an eval source's, not one that touches the eval sets, and after the
// kind's own rows for DCPT, SFT and DPO. The rows it returns are written
// like any other (the source's weight and cap, the stage's budget, the
// record's split, lineage), each checked again against the eval sets.
//
// Adding a stage is a row of schemas' stage table, a Builder and, in
// package trainer, its objective.
type Builder struct {
	Stage schemas.Stage
	// Kind is the clean record kind the builder reads (not KindKG, whose
	// records are grouped per head before they make rows).
	Kind schemas.Kind
	// Rows returns the stage rows one record gives: schemas.DCPTRow, SFTRow
	// or DPORow, as the stage's shape says. record is a pointer to the
	// kind's clean row (*schemas.ExamQuestion, *schemas.QA, …). An empty ID,
	// Source or Kind is filled in from the record.
	Rows func(record any) []any
}

// builders are the stages' builders beyond DCPT, SFT and DPO, whose rows
// each kind's reader makes itself.
var builders = []*Builder{
	{Stage: schemas.StageAdapt, Kind: schemas.KindExam, Rows: adaptRows},
}

// AddBuilder adds a stage builder for Build and returns the function that
// removes it. It is not safe to call while Build runs.
func AddBuilder(bl Builder) (remove func(), err error) {
	if _, ok := schemas.Spec(bl.Stage); !ok {
		return nil, fmt.Errorf("builder for stage %q: no such stage in the stage table", bl.Stage)
	}
	if bl.Kind == schemas.KindKG || !slices.Contains(schemas.Kinds, bl.Kind) {
		return nil, fmt.Errorf("builder for stage %q: kind %q takes no builder", bl.Stage, bl.Kind)
	}
	if bl.Rows == nil {
		return nil, fmt.Errorf("builder for stage %q: no Rows function", bl.Stage)
	}
	p := &bl
	builders = append(builders, p)
	return func() { builders = slices.DeleteFunc(builders, func(q *Builder) bool { return q == p }) }, nil
}

// offer runs the builders of a record's kind on it and emits their rows.
// id and source are the record's, group and records its split group and
// lineage.
func (b *builder) offer(f *fate, k schemas.Kind, record any, id, source, group string, records []string) error {
	for _, bl := range builders {
		if bl.Kind != k {
			continue
		}
		if _, ok := b.lanes[bl.Stage]; !ok {
			continue // a stage since removed from the table
		}
		for _, r := range bl.Rows(record) {
			var questions, texts []string
			switch v := r.(type) {
			case schemas.DCPTRow:
				v.ID, v.Source, v.Kind = cmpOr(v.ID, id), cmpOr(v.Source, source), cmpOr(v.Kind, string(k))
				texts, r = []string{v.Text}, v
			case schemas.SFTRow:
				v.ID, v.Source, v.Kind = cmpOr(v.ID, id), cmpOr(v.Source, source), cmpOr(v.Kind, string(k))
				for _, m := range v.Messages {
					texts = append(texts, m.Content)
					if m.Role == schemas.RoleUser {
						questions = append(questions, m.Content)
					}
				}
				r = v
			case schemas.DPORow:
				v.ID, v.Source, v.Kind = cmpOr(v.ID, id), cmpOr(v.Source, source), cmpOr(v.Kind, string(k))
				questions, texts, r = []string{v.Prompt}, []string{v.Prompt, v.Chosen, v.Rejected}, v
			}
			if b.leaks(group, questions, texts...) {
				f.fail(ReasonEvalOverlap)
				continue
			}
			if err := b.stageRow(f, bl.Stage, group, records, r); err != nil {
				return err
			}
		}
	}
	return nil
}
