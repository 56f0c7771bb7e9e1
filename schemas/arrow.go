package schemas

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
)

func str(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.BinaryTypes.String} }

func structList(name string, fields ...string) arrow.Field {
	fs := make([]arrow.Field, len(fields))
	for i, f := range fields {
		fs[i] = str(f)
	}
	return arrow.Field{Name: name, Type: arrow.ListOfNonNullable(arrow.StructOf(fs...))}
}

func strs(names ...string) []arrow.Field {
	fs := make([]arrow.Field, len(names))
	for i, n := range names {
		fs[i] = str(n)
	}
	return fs
}

// ArrowSchema is the Arrow schema of a canonical record kind, column for
// column what PartWriter writes for the kind's Go type.
func ArrowSchema(k Kind) (*arrow.Schema, error) {
	var fs []arrow.Field
	switch k {
	case KindText:
		fs = strs("id", "source", "title", "text", "meta", "cluster")
	case KindQA:
		fs = strs("id", "source", "question", "answer", "category", "meta", "cluster")
	case KindKG:
		fs = strs("id", "source", "head", "relation", "tail", "head_type", "tail_type", "meta", "cluster")
	case KindDialogue:
		fs = append(strs("id", "source"), structList("turns", "role", "content"), str("meta"), str("cluster"))
	case KindPreference:
		fs = strs("id", "source", "prompt", "chosen", "rejected", "meta", "cluster")
	case KindExam:
		fs = append(strs("id", "source", "question"), structList("options", "label", "text"),
			str("answer"), str("explanation"), str("meta"), str("cluster"))
	default:
		return nil, fmt.Errorf("no Arrow schema for kind %q", k)
	}
	return arrow.NewSchema(fs, nil), nil
}

// StageArrowSchema is the Arrow schema of a stage file.
func StageArrowSchema(s Stage) (*arrow.Schema, error) {
	sp, ok := Spec(s)
	if !ok {
		return nil, fmt.Errorf("no Arrow schema for stage %q", s)
	}
	return ShapeArrowSchema(sp.Shape)
}

// ShapeArrowSchema is the Arrow schema of a stage row shape, column for
// column what PartWriter writes for its Go type.
func ShapeArrowSchema(s Shape) (*arrow.Schema, error) {
	switch s {
	case ShapeText:
		return arrow.NewSchema(strs("id", "source", "kind", "text"), nil), nil
	case ShapeChat:
		return arrow.NewSchema(append(strs("id", "source", "kind"), structList("messages", "role", "content")), nil), nil
	case ShapePair:
		return arrow.NewSchema(strs("id", "source", "kind", "prompt", "chosen", "rejected"), nil), nil
	}
	return nil, fmt.Errorf("no Arrow schema for row shape %q", s)
}
