package ingest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// A preset is a Source template for one public raw format: how its fields
// map to canonical columns, and the reader options its usual files need (a
// text split mode, a CSV header). A source names it with `preset:` and still
// gives its own name, kind, role and paths; any other key it sets explicitly
// overrides the preset's (map.fields key by key, every other key as a
// whole). The table in examples/shared-corpus/README.md lists them with the
// raw shape each expects.
//
// A preset never forces a file format: the same records ship as JSON Lines
// in one place and as a pretty-printed JSON array in another (LLaMA-Factory
// ships its demo data that way), so the format is sniffed from each file's
// content unless the source sets `format:` itself. A preset's Format is the
// shape its data usually has, used only where the content is ambiguous and
// the file's extension names no format (see ApplyPreset and Sniff). Nor does
// a preset force an encoding: GBK sources are found by detection, so a
// UTF-8 copy of the same data reads as well.

var (
	yes = true
	no  = false
)

// Presets holds every preset by name. Treat it as read-only; ApplyPreset
// copies what it uses.
var Presets = map[string]Source{
	// MedicalGPT data/pretrain/*.txt, Qilin-Med cpt.txt: one paragraph a line.
	"medicalgpt-pretrain": {
		Kind: schemas.KindText, Format: FormatText, Text: TextOptions{Split: "line"},
		Map: Mapping{Fields: map[string]string{"text": "text"}},
	},
	// MedicalGPT data/sft/*.jsonl (ShareGPT): {"conversations":[{"from":"human","value":q},{"from":"gpt","value":a}]}.
	"medicalgpt-sharegpt": {
		Kind: schemas.KindQA, Format: FormatJSONL,
		Map: Mapping{Turns: &TurnsMapping{Path: "conversations", Role: "from", Content: "value", Roles: shareGPTRoles}},
	},
	// MedicalGPT data/rag/medical_corpus.txt: JSONL in a .txt, {"问": q, "答": a}.
	"medicalgpt-qa-zh": {
		Kind: schemas.KindQA, Format: FormatJSONL,
		Map: Mapping{Fields: map[string]string{"question": "问", "answer": "答"}},
	},
	// Stanford Alpaca style, as Huatuo-Llama-Med-Chinese llama_data.json:
	// {"instruction", "input", "output"}, JSON Lines or a JSON array.
	"alpaca": {
		Kind: schemas.KindQA,
		Map: Mapping{Fields: map[string]string{
			"question": `instruction + '\n' + input`,
			"answer":   "output",
		}},
	},
	// Huatuo-26M test set as Zhongjing ships it (a JSON array of
	// {"instruction": [q], "output": [a]}) or as HF datasets do ({"questions", "answers"}).
	"huatuo26m": {
		Kind: schemas.KindQA,
		Map: Mapping{Fields: map[string]string{
			"question": "instruction[0] | questions",
			"answer":   "output[0] | answers",
		}},
	},
	// cMedQA2: question.csv (question_id,content) and answer.csv
	// (ans_id,question_id,content) in one source, joined by question_id; one
	// qa row per answer.
	"cmedqa2": {
		Kind: schemas.KindQA, Format: FormatCSV,
		Map: Mapping{
			Join:   &JoinMapping{Lookup: "question*", Key: "question_id", On: "question_id", As: "question"},
			Fields: map[string]string{"question": "question.content", "answer": "content"},
		},
	},
	// MedicalGPT data/reward/*.json (the Qilin-Med DPO shape):
	// {"question", "response_chosen", "response_rejected"}.
	"medicalgpt-reward": {
		Kind: schemas.KindPreference, Format: FormatJSONL,
		Map: Mapping{Fields: map[string]string{
			"prompt": "question", "chosen": "response_chosen", "rejected": "response_rejected",
		}},
	},
	// ShareGPT DPO (MedicalGPT dpo_zh_500.jsonl): {"conversations": [system?,
	// …, human], "chosen": str, "rejected": str}. The last human turn is the
	// prompt; a system turn goes to meta "system", earlier turns to meta
	// "history". LLaMA-Factory's {"from","value"} chosen/rejected objects work too.
	"sharegpt-dpo": {
		Kind: schemas.KindPreference, Format: FormatJSONL,
		Map: Mapping{
			Turns:  &TurnsMapping{Path: "conversations", Role: "from", Content: "value", Roles: shareGPTRoles},
			Fields: map[string]string{"chosen": "chosen.value | chosen", "rejected": "rejected.value | rejected"},
		},
	},
	// Official CMExam CSV: Question, Options ("A …\nB …" in one cell),
	// Answer, Explanation and five annotation columns, which go to meta.
	"cmexam-csv": {
		Kind: schemas.KindExam, Format: FormatCSV,
		Map: cmexamMapping("\n"),
	},
	// CMExam as XLSX; the kyre-99 copy separates options with the two
	// characters backslash and n, which this preset splits on. For an XLSX
	// with real newlines in the cell, set map.options.separator: "\n".
	"cmexam-xlsx": {
		Kind: schemas.KindExam, Format: FormatXLSX,
		Map: cmexamMapping(`\n`),
	},
	// CMMLU CSV: ",Question,A,B,C,D,Answer" (the first column is a pandas index).
	"cmmlu": {
		Kind: schemas.KindExam, Format: FormatCSV,
		Map: Mapping{
			Fields:  map[string]string{"question": "Question", "answer": "Answer"},
			Options: &OptionsMapping{Columns: []string{"A", "B", "C", "D"}},
		},
	},
	// QASystemOnMedicalKG data/medical.json (mongoexport lines, one disease
	// each): triples as upstream build_medicalgraph.py makes them. desc,
	// cause, prevent and the other attributes stay in meta.
	"qasystem-medicalkg": {
		Kind: schemas.KindKG, Format: FormatJSONL,
		Map: Mapping{
			Fields: map[string]string{"head": "name", "head_type": "'Disease'"},
			Relations: []RelationMapping{
				{Field: "symptom", Relation: "has_symptom", TailType: "Symptom"},
				{Field: "acompany", Relation: "acompany_with", TailType: "Disease"},
				{Field: "cure_department[-1]", Relation: "belongs_to", TailType: "Department"},
				{Field: "cure_department[0]", Head: "cure_department[1]", Relation: "belongs_to", HeadType: "Department", TailType: "Department"},
				{Field: "common_drug", Relation: "common_drug", TailType: "Drug"},
				{Field: "recommand_drug", Relation: "recommand_drug", TailType: "Drug"},
				{Field: "check", Relation: "need_check", TailType: "Check"},
				{Field: "do_eat", Relation: "do_eat", TailType: "Food"},
				{Field: "not_eat", Relation: "no_eat", TailType: "Food"},
				{Field: "recommand_eat", Relation: "recommand_eat", TailType: "Food"},
				{Field: "drug_detail", Relation: "drugs_of", HeadType: "Producer", TailType: "Drug",
					Pattern: `^(?P<head>[^(（]*)[(（](?P<tail>.*?)[)）]?$`},
			},
		},
	},
	// CMeIE (CBLUE): {"text", "spo_list": [{"subject", "predicate",
	// "object": {"@value"}, "subject_type", "object_type": {"@value"}}]}, one
	// triple per spo; the sentence stays in meta.
	"cmeie": {
		Kind: schemas.KindKG, Format: FormatJSONL,
		Map: Mapping{
			Each: "spo_list",
			Fields: map[string]string{
				"head": "subject", "relation": "predicate", "tail": "object.@value | object",
				"head_type": "subject_type", "tail_type": "object_type.@value | object_type",
			},
		},
	},
	// Triples as TSV without a header: head, relation, tail (K-BERT *.spo).
	"spo-tsv": {
		Kind: schemas.KindKG, Format: FormatTSV,
		CSV: CSVOptions{Header: &no, Columns: []string{"head", "relation", "tail"}},
		Map: Mapping{Fields: map[string]string{"head": "head", "relation": "relation", "tail": "tail"}},
	},
	// Toyhom Chinese-medical-dialogue-data CSV (GBK): department,title,ask,answer.
	// The patient turn is title，ask (just ask when it already starts with
	// the title); department stays in meta.
	"toyhom-csv": {
		Kind: schemas.KindDialogue, Format: FormatCSV,
		CSV: CSVOptions{LazyQuotes: &yes},
		Map: Mapping{Turns: &TurnsMapping{Fixed: []FixedTurn{
			{Role: schemas.RoleUser, Content: "dedup(title + '，' + ask)"},
			{Role: schemas.RoleAssistant, Content: "answer"},
		}}},
	},
	// Toyhom per-department .txt (GBK): blocks "title,ask\nanswer" separated
	// by blank lines; the first line is the patient turn, the rest the answer.
	"toyhom-txt": {
		Kind: schemas.KindDialogue, Format: FormatText,
		Text: TextOptions{Split: "blank"},
		Map: Mapping{Turns: &TurnsMapping{Fixed: []FixedTurn{
			{Role: schemas.RoleUser, Content: "head"},
			{Role: schemas.RoleAssistant, Content: "body"},
		}}},
	},
	// MedDialog-CN raw text: records start at "id=N"; the meddialog parser
	// gives the URL, the Description section (kept in meta) and the
	// Dialogue's "病人：/医生：" turns. "预约医生：" (the booked doctor) heads
	// some Dialogue sections; it is no turn and goes to meta skipped_turns.
	"meddialog-txt": {
		Kind: schemas.KindDialogue, Format: FormatText,
		Text: TextOptions{Split: "pattern", Pattern: `^id=\d+`, Parser: "meddialog"},
		Map: Mapping{Turns: &TurnsMapping{Path: "dialogue", Roles: map[string]string{
			"病人": schemas.RoleUser, "医生": schemas.RoleAssistant, "预约医生": roleSkip,
		}}},
	},
	// MedDialog preprocessed JSON: an array of dialogues, each a list of
	// "病人：…" / "医生：…" strings.
	"meddialog-json": {
		Kind: schemas.KindDialogue, Format: FormatJSON,
		Map: Mapping{Turns: &TurnsMapping{Path: "_value", Roles: medDialogRoles}},
	},
	// DISC-MedLLM JSONL: {"_id", "source", "conversation": [{"role", "content"}]}.
	"disc-med": {
		Kind: schemas.KindDialogue, Format: FormatJSONL,
		Map: Mapping{Turns: &TurnsMapping{Path: "conversation", Role: "role", Content: "content"}},
	},
}

var shareGPTRoles = map[string]string{
	"human": schemas.RoleUser, "user": schemas.RoleUser,
	"gpt": schemas.RoleAssistant, "assistant": schemas.RoleAssistant,
	"system": schemas.RoleSystem,
}

var medDialogRoles = map[string]string{"病人": schemas.RoleUser, "医生": schemas.RoleAssistant}

func cmexamMapping(sep string) Mapping {
	return Mapping{
		Fields:  map[string]string{"question": "Question", "answer": "Answer", "explanation": "Explanation"},
		Options: &OptionsMapping{Path: "Options", Separator: sep},
	}
}

// PresetNames lists the presets in name order.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ApplyPreset returns the source with its preset filled in under the keys
// the source sets itself. A source without a preset is returned as it is.
// The preset's Format is not filled in: the result keeps the source's own
// format (auto when it sets none), and the readers take the preset's as a
// hint only (formatHint).
func ApplyPreset(s Source) (Source, error) {
	if s.Preset == "" {
		return s, nil
	}
	p, ok := Presets[s.Preset]
	if !ok {
		return s, fmt.Errorf("sources[%s].preset: unknown preset %q (known: %s)", s.Name, s.Preset, strings.Join(PresetNames(), ", "))
	}
	if s.Kind != "" && s.Kind != p.Kind {
		return s, fmt.Errorf("sources[%s].kind: preset %s makes %s records, not %s", s.Name, s.Preset, p.Kind, s.Kind)
	}
	out := deepCopy(p)
	overlay(reflect.ValueOf(&out).Elem(), reflect.ValueOf(s))
	out.Kind = p.Kind
	out.Format = s.Format
	return out, nil
}

// formatHint is the format a source's preset usually comes in, which the
// sniffer falls back on where content and extension cannot tell (a .spo
// file of one line, a CSV with no extension whose first rows hold quoted
// newlines); "" without a preset.
func formatHint(s *Source) Format {
	if s.Format != "" && s.Format != FormatAuto {
		return s.Format
	}
	return Presets[s.Preset].Format
}

// overlay copies every non-zero value of src over dst: structs field by
// field, maps key by key, anything else (pointers and slices included) as a
// whole. It is reflective so that options added to Source later merge too.
func overlay(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Type().Field(i).IsExported() {
				overlay(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(src.Type()))
		}
		for _, k := range src.MapKeys() {
			dst.SetMapIndex(k, src.MapIndex(k))
		}
	default:
		if !src.IsZero() {
			dst.Set(src)
		}
	}
}

// deepCopy copies a preset so that overlaying a source never changes
// Presets: maps, slices and pointers are duplicated.
func deepCopy(s Source) Source {
	v := reflect.New(reflect.TypeOf(s)).Elem()
	copyValue(v, reflect.ValueOf(s))
	return v.Interface().(Source)
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Type().Field(i).IsExported() {
				copyValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for _, k := range src.MapKeys() {
			e := reflect.New(src.Type().Elem()).Elem()
			copyValue(e, src.MapIndex(k))
			m.SetMapIndex(k, e)
		}
		dst.Set(m)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		sl := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(sl.Index(i), src.Index(i))
		}
		dst.Set(sl)
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	default:
		dst.Set(src)
	}
}
