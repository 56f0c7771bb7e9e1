package ingest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// JoinMapping lets one source read two kinds of file whose records meet on a
// key, such as cMedQA2's question.csv (question_id, content) and answer.csv
// (ans_id, question_id, content). The source's files whose base name matches
// Lookup are read first into memory, keyed by their Key field; every other
// file's records then find their partner by the value of their On field,
// which the mapping sees under the name As ("question.content"). A record
// whose key has no partner, a lookup row that no record used and a second
// lookup row with the same key are quarantined, so nothing is lost silently.
// Lookup rows are not records: reports/ingest.json counts them apart, under
// the source's "lookup" (read, used, quarantined).
type JoinMapping struct {
	Lookup string `yaml:"lookup"` // glob on base names: "question*.csv"
	Key    string `yaml:"key"`    // the key field in lookup rows
	On     string `yaml:"on"`     // the key field in the other rows
	As     string `yaml:"as"`     // name the partner row gets in the record
}

// columnsOf lists the canonical text columns Mapping.Fields may set per kind.
var columnsOf = map[schemas.Kind][]string{
	schemas.KindText:       {"title", "text"},
	schemas.KindQA:         {"question", "answer", "category"},
	schemas.KindKG:         {"head", "relation", "tail", "head_type", "tail_type"},
	schemas.KindDialogue:   {},
	schemas.KindPreference: {"prompt", "chosen", "rejected"},
	schemas.KindExam:       {"question", "answer", "explanation"},
}

// mapper is a compiled Mapping for one source: it turns a Raw into
// canonical rows or says why it cannot.
type mapper struct {
	source    string
	kind      schemas.Kind
	each      *path
	fields    map[string]*expr
	turns     *turnsMapper
	options   *optionsMapper
	answerIs  string // how an exam answer names its options; "" sniffs
	steps     map[string][]textStep
	relations []relationMapper
	meta      []*expr
	metaNames []string
	// readRecord and readElem are what the expressions read of the record
	// and of an Each element; the rest, at any depth, goes to meta.
	readRecord, readElem readTree
	fanOut               bool // more than one row per record is possible
	// maxMeta caps a row's meta JSON; capped counts the rows of the
	// records mapped so far whose meta it cut (a mapper serves one source
	// on one goroutine).
	maxMeta int
	capped  int64
}

type optionsMapper struct {
	path      *path
	separator string
	columns   []*path
}

type relationMapper struct {
	field              path
	head               *expr
	relation           string
	headType, tailType string
	pattern            *regexp.Regexp
}

// compileMapping checks a source's mapping against its kind and compiles
// every expression; errors name the source and the key. A mapping that
// could never fill its kind's required columns fails here too.
func compileMapping(s *Source) (*mapper, error) {
	mp, err := compileKeys(s)
	if err != nil {
		return nil, err
	}
	if err := mp.checkComplete(); err != nil {
		return nil, fmt.Errorf("sources[%s].map.fields: %w", s.Name, err)
	}
	return mp, nil
}

// compileKeys compiles every key of a mapping, leaving aside whether it
// fills the kind's required columns.
func compileKeys(s *Source) (*mapper, error) {
	m := s.Map
	mp := &mapper{source: s.Name, kind: s.Kind, fields: map[string]*expr{}, maxMeta: int(s.MaxMetaBytes)}
	if mp.maxMeta <= 0 {
		mp.maxMeta = DefaultMaxMetaBytes
	}
	if m.Each != "" {
		e, err := parseExpr(m.Each)
		if err != nil || len(e.alts) != 1 || len(e.alts[0].terms) != 1 || e.alts[0].terms[0].isLit || e.alts[0].terms[0].nested != nil {
			return nil, mp.at("each", fmt.Errorf("%q is not a path", m.Each))
		}
		pt := e.alts[0].terms[0].path
		pt.root = true
		mp.each = &pt
		mp.readRecord.mark(pt.steps)
		mp.fanOut = true
	}
	allowed := columnsOf[s.Kind]
	for _, col := range sortedKeys(m.Fields) {
		if !slices.Contains(allowed, col) {
			return nil, mp.at("fields."+col, fmt.Errorf("%s records have no column %q (columns: %s)", s.Kind, col, strings.Join(allowed, ", ")))
		}
		e, err := mp.compile("fields."+col, m.Fields[col])
		if err != nil {
			return nil, err
		}
		mp.fields[col] = e
	}
	if m.Turns != nil {
		switch s.Kind {
		case schemas.KindDialogue, schemas.KindQA, schemas.KindPreference:
		default:
			return nil, mp.at("turns", fmt.Errorf("%s records have no turns", s.Kind))
		}
		tm, err := compileTurns(m.Turns, mp.compile, mp.use)
		if err != nil {
			return nil, mp.at("turns", err)
		}
		mp.turns = tm
	}
	if m.Options != nil {
		if err := mp.compileOptions(m.Options); err != nil {
			return nil, err
		}
	}
	steps, err := compileSteps(m.Steps, s.Kind)
	if err != nil {
		return nil, fmt.Errorf("sources[%s].map.%w", s.Name, err) // err names its key
	}
	mp.steps = steps
	if m.AnswerIs != "" {
		if s.Kind != schemas.KindExam {
			return nil, mp.at("answer_is", fmt.Errorf("%s records have no options to answer", s.Kind))
		}
		if !slices.Contains(answerModes, m.AnswerIs) {
			return nil, mp.at("answer_is", fmt.Errorf("%q is not one of %s", m.AnswerIs, strings.Join(answerModes, ", ")))
		}
		mp.answerIs = m.AnswerIs
	}
	if len(m.Relations) > 0 {
		if err := mp.compileRelations(m.Relations); err != nil {
			return nil, err
		}
	}
	for i, name := range m.Meta {
		e, err := mp.compile(fmt.Sprintf("meta[%d]", i), name)
		if err != nil {
			return nil, err
		}
		mp.meta = append(mp.meta, e)
		mp.metaNames = append(mp.metaNames, name)
	}
	return mp, nil
}

// at names a mapping key of the source in err.
func (mp *mapper) at(key string, err error) error {
	return fmt.Errorf("sources[%s].map.%s: %w", mp.source, key, err)
}

// use marks the raw fields path pt reads, so they stay out of meta.
func (mp *mapper) use(pt path) {
	if pt.root || mp.each == nil {
		mp.readRecord.mark(pt.steps)
	} else {
		mp.readElem.mark(pt.steps)
	}
}

// compile parses the expression of mapping key key and marks what it reads.
func (mp *mapper) compile(key, src string) (*expr, error) {
	e, err := parseExpr(src)
	if err != nil {
		return nil, mp.at(key, err)
	}
	for _, pt := range e.paths() {
		mp.use(pt)
	}
	return e, nil
}

// compileOptions compiles map.options: exam options from one path or from
// columns.
func (mp *mapper) compileOptions(o *OptionsMapping) error {
	if mp.kind != schemas.KindExam {
		return mp.at("options", fmt.Errorf("%s records have no options", mp.kind))
	}
	om := &optionsMapper{separator: o.Separator}
	if om.separator == "" {
		om.separator = "\n"
	}
	switch {
	case o.Path != "" && len(o.Columns) > 0:
		return mp.at("options", errors.New("give path or columns, not both"))
	case o.Path != "":
		pt, err := singlePath(o.Path)
		if err != nil {
			return mp.at("options.path", err)
		}
		mp.use(pt)
		om.path = &pt
	case len(o.Columns) > 0:
		for _, c := range o.Columns {
			pt, err := singlePath(c)
			if err != nil {
				return mp.at("options.columns", err)
			}
			mp.use(pt)
			om.columns = append(om.columns, &pt)
		}
	default:
		return mp.at("options", errors.New("give path or columns"))
	}
	mp.options = om
	return nil
}

// compileRelations compiles map.relations: KG triples fanned out of one
// record, a relation per field.
func (mp *mapper) compileRelations(rels []RelationMapping) error {
	if mp.kind != schemas.KindKG {
		return mp.at("relations", fmt.Errorf("%s records have no relations", mp.kind))
	}
	mp.fanOut = true
	for i, r := range rels {
		key := fmt.Sprintf("relations[%d]", i)
		if r.Relation == "" {
			return mp.at(key+".relation", errors.New("no relation name"))
		}
		pt, err := singlePath(r.Field)
		if err != nil {
			return mp.at(key+".field", err)
		}
		mp.use(pt)
		rm := relationMapper{field: pt, relation: r.Relation, headType: r.HeadType, tailType: r.TailType}
		if r.Head != "" {
			if rm.head, err = mp.compile(key+".head", r.Head); err != nil {
				return err
			}
		}
		if r.Pattern != "" {
			if rm.pattern, err = regexp.Compile(r.Pattern); err != nil {
				return mp.at(key+".pattern", err)
			}
			if rm.pattern.SubexpIndex("head") < 0 && rm.pattern.SubexpIndex("tail") < 0 {
				return mp.at(key+".pattern", errors.New("the pattern has no (?P<head>…) or (?P<tail>…) group"))
			}
		}
		mp.relations = append(mp.relations, rm)
	}
	return nil
}

// checkComplete catches a mapping that could never fill its kind's required
// columns, at load time rather than by quarantining every record.
func (mp *mapper) checkComplete() error {
	need := func(cols ...string) error {
		for _, c := range cols {
			if mp.fields[c] == nil {
				return fmt.Errorf("%s records need %q mapped", mp.kind, c)
			}
		}
		return nil
	}
	switch mp.kind {
	case schemas.KindText:
		return need("text")
	case schemas.KindQA:
		if mp.turns != nil {
			return nil
		}
		return need("question", "answer")
	case schemas.KindKG:
		if len(mp.relations) > 0 {
			return need("head")
		}
		return need("head", "relation", "tail")
	case schemas.KindDialogue:
		if mp.turns == nil {
			return errors.New("dialogue records need map.turns")
		}
	case schemas.KindPreference:
		if mp.turns != nil {
			return need("chosen", "rejected")
		}
		return need("prompt", "chosen", "rejected")
	case schemas.KindExam:
		if mp.options == nil {
			return errors.New("exam records need map.options")
		}
		return need("question", "answer")
	}
	return nil
}

func singlePath(src string) (path, error) {
	e, err := parseExpr(src)
	if err != nil {
		return path{}, err
	}
	if len(e.alts) != 1 || len(e.alts[0].terms) != 1 || e.alts[0].terms[0].isLit || e.alts[0].terms[0].nested != nil {
		return path{}, fmt.Errorf("%q is not a path", src)
	}
	return e.alts[0].terms[0].path, nil
}

// mapRecord turns one raw record into canonical rows, appended to out. An
// error means the record is quarantined as a whole: no row of it is written.
func (mp *mapper) mapRecord(raw *Raw, out []schemas.Record) ([]schemas.Record, error) {
	record := any(raw.Fields)
	start := len(out)
	capped := mp.capped
	out, err := mp.mapRows(raw, record, out)
	if err != nil {
		mp.capped = capped // a quarantined record writes no row
		return out[:start], err
	}
	return out, nil
}

// mapRows is mapRecord without the bookkeeping of a failed record.
func (mp *mapper) mapRows(raw *Raw, record any, out []schemas.Record) ([]schemas.Record, error) {
	start := len(out)
	var err error
	if mp.each == nil {
		out, err = mp.mapOne(raw, scope{record: record, elem: record}, -1, out)
	} else {
		v, ok := mp.each.lookup(scope{record: record, elem: record})
		list, isList := v.([]any)
		switch {
		case !ok || v == nil:
			return out, fmt.Errorf("each: %s is missing", mp.each)
		case !isList:
			return out, fmt.Errorf("each: %s is not a list", mp.each)
		case len(list) == 0:
			return out, fmt.Errorf("each: %s is an empty list", mp.each)
		}
		for i, el := range list {
			out, err = mp.mapOne(raw, scope{record: record, elem: el}, i, out)
			if err != nil {
				return out[:start], fmt.Errorf("%s[%d]: %w", mp.each, i, err)
			}
		}
	}
	if err != nil {
		return out[:start], err
	}
	if len(out) == start {
		return out, errors.New("the record gave no rows")
	}
	rows := out[start:]
	for i, r := range rows {
		sub := i
		if !mp.fanOut {
			sub = -1
		}
		setID(r, schemas.StableIDAt(mp.source, raw.Loc.File, raw.Loc.Row, sub))
	}
	return out, nil
}

// metaOf collects the meta fields of one row: the record's (and element's)
// fields that no expression read, or the explicit Meta list, plus the
// provenance every row carries.
func (mp *mapper) metaOf(raw *Raw, sc scope, each int) (map[string]any, error) {
	meta := map[string]any{}
	if mp.meta != nil {
		for i, e := range mp.meta {
			pts := e.paths()
			if len(pts) == 1 && len(e.alts) == 1 && len(e.alts[0].terms) == 1 {
				if v, ok := pts[0].lookup(sc); ok {
					meta[mp.metaNames[i]] = v
				}
				continue
			}
			s, err := e.eval(sc)
			if err != nil {
				return nil, fmt.Errorf("meta %q: %w", mp.metaNames[i], err)
			}
			meta[mp.metaNames[i]] = s
		}
	} else {
		// Views of the record (a text record's head and body) stay out of
		// meta once the mapping reads one of them: they repeat the text.
		views := slices.ContainsFunc(raw.Views, mp.readRecord.reads)
		mp.readRecord.unreadInto(meta, raw.Fields, func(k string) bool { return views && slices.Contains(raw.Views, k) })
		if mp.each != nil {
			if el, ok := sc.elem.(map[string]any); ok {
				mp.readElem.unreadInto(meta, el, nil)
			}
		}
	}
	meta["_file"] = raw.Loc.File
	meta["_row"] = raw.Loc.Row
	if raw.Loc.Line > 0 {
		meta["_line"] = raw.Loc.Line
	}
	if each >= 0 {
		meta["_each"] = each // the element's index in the Each list
	}
	return meta, nil
}

// rowMeta renders the meta of one row, counting it when the cap cut it.
func (mp *mapper) rowMeta(meta map[string]any) string {
	js, capped := mp.metaJSON(meta)
	if capped {
		mp.capped++
	}
	return js
}

// field evaluates the expression mapped to a column ("" when unmapped).
func (mp *mapper) field(col string, sc scope) (string, error) {
	e := mp.fields[col]
	if e == nil {
		return "", nil
	}
	s, err := e.eval(sc)
	if err != nil {
		return "", fmt.Errorf("%s: %w", col, err)
	}
	return rewrite(s, mp.steps[col]), nil
}

// turnsOf builds a record's turns and runs the turns steps over them.
func (mp *mapper) turnsOf(sc scope, meta map[string]any) ([]schemas.Turn, error) {
	turns, err := mp.turns.build(sc, meta)
	if err != nil {
		return nil, err
	}
	return rewriteTurns(turns, mp.steps[stepsTurns]), nil
}

// fieldsOf evaluates several columns at once.
func (mp *mapper) fieldsOf(sc scope, cols ...string) ([]string, error) {
	out := make([]string, len(cols))
	for i, c := range cols {
		s, err := mp.field(c, sc)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// required fails when a required column came out empty, naming it and the
// expression that was expected to fill it.
func (mp *mapper) required(cols []string, vals []string) error {
	var missing []string
	for i, c := range cols {
		if strings.TrimSpace(vals[i]) == "" {
			if e := mp.fields[c]; e != nil {
				missing = append(missing, fmt.Sprintf("%s (%s)", c, e.src))
			} else {
				missing = append(missing, c)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("required %s empty or missing: %s", plural(len(missing), "column is", "columns are"), strings.Join(missing, ", "))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// mapOne builds the rows of one record or of its each-th Each element.
func (mp *mapper) mapOne(raw *Raw, sc scope, each int, out []schemas.Record) ([]schemas.Record, error) {
	meta, err := mp.metaOf(raw, sc, each)
	if err != nil {
		return out, err
	}
	switch mp.kind {
	case schemas.KindText:
		v, err := mp.fieldsOf(sc, "title", "text")
		if err != nil {
			return out, err
		}
		if err := mp.required([]string{"text"}, v[1:]); err != nil {
			return out, err
		}
		return append(out, &schemas.Text{Source: mp.source, Title: v[0], Text: v[1], Meta: mp.rowMeta(meta)}), nil

	case schemas.KindQA:
		return mp.qa(sc, meta, out)

	case schemas.KindPreference:
		return mp.preference(sc, meta, out)

	case schemas.KindDialogue:
		turns, err := mp.turnsOf(sc, meta)
		if err != nil {
			return out, err
		}
		if len(turns) == 0 {
			return out, errors.New("the dialogue has no turns")
		}
		return append(out, &schemas.Dialogue{Source: mp.source, Turns: turns, Meta: mp.rowMeta(meta)}), nil

	case schemas.KindExam:
		return mp.exam(sc, meta, out)

	case schemas.KindKG:
		return mp.triples(sc, meta, out)
	}
	return out, fmt.Errorf("kind %q cannot be mapped", mp.kind)
}

// qa maps a QA row; with map.turns, a question or answer left empty comes
// from the turns.
func (mp *mapper) qa(sc scope, meta map[string]any, out []schemas.Record) ([]schemas.Record, error) {
	v, err := mp.fieldsOf(sc, "question", "answer", "category")
	if err != nil {
		return out, err
	}
	if mp.turns != nil {
		turns, err := mp.turnsOf(sc, meta)
		if err != nil {
			return out, err
		}
		q, a, err := qaFromTurns(turns, meta)
		if err != nil {
			return out, err
		}
		if v[0] == "" {
			v[0] = q
		}
		if v[1] == "" {
			v[1] = a
		}
	}
	if err := mp.required([]string{"question", "answer"}, v[:2]); err != nil {
		return out, err
	}
	return append(out, &schemas.QA{Source: mp.source, Question: v[0], Answer: v[1], Category: v[2], Meta: mp.rowMeta(meta)}), nil
}

// preference maps a preference pair; with map.turns, an empty prompt
// comes from the turns.
func (mp *mapper) preference(sc scope, meta map[string]any, out []schemas.Record) ([]schemas.Record, error) {
	v, err := mp.fieldsOf(sc, "prompt", "chosen", "rejected")
	if err != nil {
		return out, err
	}
	if mp.turns != nil {
		turns, err := mp.turnsOf(sc, meta)
		if err != nil {
			return out, err
		}
		p, err := promptFromTurns(turns, meta)
		if err != nil {
			return out, err
		}
		if v[0] == "" {
			v[0] = p
		}
	}
	if err := mp.required([]string{"prompt", "chosen", "rejected"}, v); err != nil {
		return out, err
	}
	return append(out, &schemas.PreferencePair{Source: mp.source, Prompt: v[0], Chosen: v[1], Rejected: v[2], Meta: mp.rowMeta(meta)}), nil
}

// exam maps an exam question, its options and the option its answer names.
func (mp *mapper) exam(sc scope, meta map[string]any, out []schemas.Record) ([]schemas.Record, error) {
	v, err := mp.fieldsOf(sc, "question", "answer", "explanation")
	if err != nil {
		return out, err
	}
	if err := mp.required([]string{"question", "answer"}, v[:2]); err != nil {
		return out, err
	}
	opts, err := mp.options.build(sc)
	if err != nil {
		return out, err
	}
	if err := rewriteOptions(opts, mp.steps[stepsOptions]); err != nil {
		return out, err
	}
	if len(opts) < 2 {
		return out, fmt.Errorf("options: %d found, an exam question needs at least 2", len(opts))
	}
	answer, err := resolveAnswer(v[1], opts, mp.answerIs)
	if err != nil {
		return out, err
	}
	return append(out, &schemas.ExamQuestion{Source: mp.source, Question: v[0], Options: plainOptions(opts), Answer: answer, Explanation: v[2], Meta: mp.rowMeta(meta)}), nil
}

// triples builds one triple from head/relation/tail, or with Relations one
// per value of each relation field. Empty values in a list are not facts and
// are skipped; a record that gives no triple at all is an error.
func (mp *mapper) triples(sc scope, meta map[string]any, out []schemas.Record) ([]schemas.Record, error) {
	v, err := mp.fieldsOf(sc, "head", "relation", "tail", "head_type", "tail_type")
	if err != nil {
		return out, err
	}
	metaJSON, capped := mp.metaJSON(meta)
	if len(mp.relations) == 0 {
		if capped {
			mp.capped++
		}
		if err := mp.required([]string{"head", "relation", "tail"}, v[:3]); err != nil {
			return out, err
		}
		return append(out, &schemas.Triple{Source: mp.source, Head: v[0], Relation: v[1], Tail: v[2], HeadType: v[3], TailType: v[4], Meta: metaJSON}), nil
	}
	if err := mp.required([]string{"head"}, v[:1]); err != nil {
		return out, err
	}
	start := len(out)
	for _, r := range mp.relations {
		head := v[0]
		if r.head != nil {
			if head, err = r.head.eval(sc); err != nil {
				return out[:start], fmt.Errorf("relation %s head: %w", r.relation, err)
			}
			if head == "" {
				continue // this record has no such head (a one-level department)
			}
		}
		val, ok := r.field.lookup(sc)
		if !ok || val == nil {
			continue // keys are optional per record
		}
		var tails []any
		switch x := val.(type) {
		case []any:
			tails = x
		default:
			tails = []any{x}
		}
		for _, t := range tails {
			tail, err := textOf(t)
			if err != nil {
				return out[:start], fmt.Errorf("relation %s: %s %w", r.relation, r.field, err)
			}
			tail = strings.TrimSpace(tail)
			h := head
			if r.pattern != nil {
				m := r.pattern.FindStringSubmatch(tail)
				if m == nil {
					return out[:start], fmt.Errorf("relation %s: %q does not match %s", r.relation, tail, r.pattern)
				}
				if i := r.pattern.SubexpIndex("head"); i >= 0 {
					h = strings.TrimSpace(m[i])
				}
				if i := r.pattern.SubexpIndex("tail"); i >= 0 {
					tail = strings.TrimSpace(m[i])
				}
			}
			if tail == "" || h == "" {
				continue
			}
			headType := r.headType
			if headType == "" {
				headType = v[3]
			}
			out = append(out, &schemas.Triple{Source: mp.source, Head: h, Relation: r.relation, Tail: tail,
				HeadType: headType, TailType: r.tailType, Meta: metaJSON})
		}
	}
	if capped {
		mp.capped += int64(len(out) - start)
	}
	return out, nil
}

// qaFromTurns reads a one-exchange conversation as a question and answer:
// an optional system turn (kept in meta "system"), one user turn, one
// assistant turn. Longer conversations belong in a dialogue source.
func qaFromTurns(turns []schemas.Turn, meta map[string]any) (q, a string, err error) {
	if len(turns) > 0 && turns[0].Role == schemas.RoleSystem {
		meta["system"] = turns[0].Content
		turns = turns[1:]
	}
	if len(turns) != 2 || turns[0].Role != schemas.RoleUser || turns[1].Role != schemas.RoleAssistant {
		return "", "", fmt.Errorf("a qa record needs one user turn then one assistant turn, got %s (use kind: dialogue for conversations)", roleList(turns))
	}
	return turns[0].Content, turns[1].Content, nil
}

// promptFromTurns reads the prompt of a preference pair: the conversation
// must end with a user turn, whose text is the prompt; a leading system turn
// goes to meta "system" and any earlier exchange to meta "history".
func promptFromTurns(turns []schemas.Turn, meta map[string]any) (string, error) {
	if len(turns) > 0 && turns[0].Role == schemas.RoleSystem {
		meta["system"] = turns[0].Content
		turns = turns[1:]
	}
	if len(turns) == 0 || turns[len(turns)-1].Role != schemas.RoleUser {
		return "", fmt.Errorf("a preference prompt must end with a user turn, got %s", roleList(turns))
	}
	if len(turns) > 1 {
		meta["history"] = turns[:len(turns)-1]
	}
	return turns[len(turns)-1].Content, nil
}

func roleList(turns []schemas.Turn) string {
	if len(turns) == 0 {
		return "no turns"
	}
	rs := make([]string, len(turns))
	for i, t := range turns {
		rs[i] = t.Role
	}
	return strings.Join(rs, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// setID sets the id every canonical row has.
func setID(r schemas.Record, id string) {
	switch x := r.(type) {
	case *schemas.Text:
		x.ID = id
	case *schemas.QA:
		x.ID = id
	case *schemas.Triple:
		x.ID = id
	case *schemas.Dialogue:
		x.ID = id
	case *schemas.PreferencePair:
		x.ID = id
	case *schemas.ExamQuestion:
		x.ID = id
	}
}
