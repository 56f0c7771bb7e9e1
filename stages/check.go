package stages

import (
	"errors"
	"fmt"
	"github.com/chimed/chimed/kg"
	"hash/maphash"
	"iter"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// LeakageReport counts what CheckLeakage looked at.
type LeakageReport struct {
	EvalQuestions int   `json:"eval_questions"`
	EvalGrams     int   `json:"eval_grams"`
	RowsScanned   int64 `json:"rows_scanned"`
	Groups        int   `json:"groups"`
	Clusters      int   `json:"clusters"`
}

// LeakageError names the file, row and what leaked. The check folded into
// the build names a row by its ID (Row is -1), and a key found in two
// splits by no row at all.
type LeakageError struct {
	File string
	Row  int64
	ID   string
	Err  error
}

func (e *LeakageError) Error() string {
	switch {
	case e.ID != "":
		return fmt.Sprintf("%s: row %s: %v", e.File, e.ID, e.Err)
	case e.Row < 0:
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: row %d: %v", e.File, e.Row, e.Err)
}
func (e *LeakageError) Unwrap() error { return e.Err }

// ErrLeak is wrapped by every leak CheckLeakage finds.
var ErrLeak = errors.New("leak")

// CheckLeakage verifies a built workspace independently of the builder's
// bookkeeping, from the files alone:
//   - no training row (stages/{dcpt,sft,dpo}/*.parquet, and the trainer's
//     dpo/negatives.parquet) shares an n-character window with an eval
//     question (eval/exam, eval/qa), compared as exact strings of
//     whitespace-free lower-cased text; an eval question shorter than n
//     must not be a whole line of any user message or DPO prompt;
//   - every lineage file lists the ids of its stage file, row for row;
//   - no group key and no near-duplicate cluster of clean/ (looked up from
//     the clean records behind each row) has rows in two splits, and no
//     eval record or eval cluster is behind a training row.
//
// Memory: the eval windows, plus about 40 bytes per distinct group and per
// clean record behind the stages.
func CheckLeakage(ws workspace.Dir, n int) (*LeakageReport, error) {
	c := &leakChecker{ws: ws, n: n, rep: &LeakageReport{}, seed: maphash.MakeSeed(),
		grams: map[string]struct{}{}, shorts: map[string]struct{}{},
		evalRecs: map[string]struct{}{}, evalClusters: map[uint64]struct{}{},
		groupSplit: map[uint64]int8{}, clusterSplit: map[uint64]int8{}}
	if err := c.loadEval(); err != nil {
		return nil, err
	}
	for _, st := range schemas.Stages {
		for si, split := range schemas.Splits {
			if err := c.checkSplit(st, si, split); err != nil {
				return nil, err
			}
		}
	}
	if neg := NegativesPath(ws); fileExists(neg) {
		if _, err := scanStage(neg, schemas.StageDPO, func(row int64, _, text string, question bool) error {
			return c.scanText(neg, row, text, question)
		}); err != nil {
			return nil, err
		}
	}
	c.rep.Groups, c.rep.Clusters = len(c.groupSplit), len(c.clusterSplit)
	return c.rep, nil
}

// leakChecker holds what CheckLeakage learns from the eval sets and the
// splits it has checked so far.
type leakChecker struct {
	ws  workspace.Dir
	n   int
	rep *LeakageReport
	// grams are the n-character windows of the eval questions; shorts the
	// eval questions shorter than n, whole.
	grams, shorts map[string]struct{}
	seed          maphash.Seed
	clusters      map[string]string // clean record → near-duplicate cluster
	entities      map[string][2]string
	// evalRecs and evalClusters are the clean records behind the eval sets
	// and their clusters; groupSplit and clusterSplit the split each group
	// key and cluster behind a training row is in.
	evalRecs                 map[string]struct{}
	evalClusters             map[uint64]struct{}
	groupSplit, clusterSplit map[uint64]int8
}

func (c *leakChecker) hash(s string) uint64 { return maphash.String(c.seed, s) }

func (c *leakChecker) clusterOf(rec string) uint64 {
	if cl, ok := c.clusters[rec]; ok {
		return c.hash(cl)
	}
	return c.hash(rec)
}

// loadEval reads the eval questions into windows, the eval records and
// their clusters, and the clean clusters and KG entities the checks need.
func (c *leakChecker) loadEval() error {
	addQ := func(q string) {
		c.rep.EvalQuestions++
		cq := canonical(q)
		offs := runeOffsets(cq)
		if len(offs)-1 < c.n {
			if cq != "" {
				c.shorts[cq] = struct{}{}
			}
			return
		}
		for i := 0; i+c.n < len(offs); i++ {
			c.grams[cq[offs[i]:offs[i+c.n]]] = struct{}{}
		}
	}
	for r, err := range schemas.ReadFile[schemas.ExamQuestion](c.ws.EvalFile("exam")) {
		if err != nil {
			return err
		}
		addQ(r.Question)
	}
	for r, err := range schemas.ReadFile[schemas.EvalQA](c.ws.EvalFile("qa")) {
		if err != nil {
			return err
		}
		addQ(r.Question)
	}
	c.rep.EvalGrams = len(c.grams)

	var err error
	if c.clusters, err = cleanClusters(c.ws); err != nil {
		return err
	}
	for _, key := range []string{"eval/exam", "eval/qa"} {
		for r, err := range schemas.ReadFile[LineageRow](LineagePath(c.ws, key)) {
			if err != nil {
				return err
			}
			for _, rec := range r.Records {
				c.evalRecs[rec] = struct{}{}
				c.evalClusters[c.clusterOf(rec)] = struct{}{}
			}
		}
	}
	c.entities, err = kgEntities(c.ws)
	return err
}

func leak(file string, row int64, format string, args ...any) error {
	return &LeakageError{File: file, Row: row, Err: fmt.Errorf("%w: "+format, append([]any{ErrLeak}, args...)...)}
}

// rowLeak is a leak the build's own check found in the row with this id.
func rowLeak(file, id string, format string, args ...any) error {
	return &LeakageError{File: file, Row: -1, ID: id, Err: fmt.Errorf("%w: "+format, append([]any{ErrLeak}, args...)...)}
}

// scanText fails if text shares a window with an eval question or, for a
// question, has a line that is a whole short eval question.
func (c *leakChecker) scanText(file string, row int64, text string, question bool) error {
	ct := canonical(text)
	offs := runeOffsets(ct)
	for i := 0; i+c.n < len(offs); i++ {
		if _, ok := c.grams[ct[offs[i]:offs[i+c.n]]]; ok {
			return leak(file, row, "shares %q with an eval question", ct[offs[i]:offs[i+c.n]])
		}
	}
	if question {
		for line := range strings.SplitSeq(text, "\n") {
			if _, ok := c.shorts[canonical(line)]; ok {
				return leak(file, row, "asks the eval question %q", line)
			}
		}
	}
	return nil
}

// scanKGText scans knowledge-graph text: every entity on its own, then the
// rest with the entities cut out, so a window that a listing of several
// facts shares with an eval question is no leak (it is the fact the
// question tests), while a copied question, in an entity or in the
// template text, still is.
func (c *leakChecker) scanKGText(file string, row int64, text string, l LineageRow) error {
	var names []string
	for _, rec := range l.Records {
		e := c.entities[rec]
		names = append(names, e[0], e[1])
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	masked := text
	for _, e := range names {
		if e == "" {
			continue
		}
		// Names are what questions ask about; a tail of two
		// windows or more is a phrase, scanned as text.
		if utf8.RuneCountInString(e) >= 2*c.n {
			if err := c.scanText(file, row, e, false); err != nil {
				return err
			}
		}
		masked = strings.ReplaceAll(masked, e, "\x1f")
	}
	return c.scanText(file, row, masked, false)
}

// checkSplit scans one stage split's text and checks its lineage file.
func (c *leakChecker) checkSplit(st schemas.Stage, si int, split string) error {
	path := c.ws.StageFile(st, split)
	lpath := LineagePath(c.ws, splitKey(st, si))
	lineage := lineageCursor(lpath)
	ids, err := scanStage(path, st, func(row int64, kind, text string, question bool) error {
		if kind != string(schemas.KindKG) || question {
			return c.scanText(path, row, text, question)
		}
		l, err := lineage(row)
		if err != nil {
			return err
		}
		return c.scanKGText(path, row, text, l)
	})
	lineage(-1)
	if err != nil {
		return err
	}
	return c.checkLineage(path, lpath, ids, si, split)
}

// checkLineage checks that lineage file lpath lists the ids of stage file
// path row for row, that no group or cluster behind it is in another
// split, and that no eval record or eval cluster is behind it.
func (c *leakChecker) checkLineage(path, lpath string, ids []string, si int, split string) error {
	row := int64(0)
	for l, err := range schemas.ReadFile[LineageRow](lpath) {
		if err != nil {
			return err
		}
		if row >= int64(len(ids)) || ids[row] != l.ID {
			return leak(lpath, row, "lineage id %s does not match %s", l.ID, path)
		}
		if s, ok := c.groupSplit[c.hash(l.Group)]; ok && s != int8(si) {
			return leak(lpath, row, "group %q is in %s and %s", l.Group, schemas.Splits[s], split)
		}
		c.groupSplit[c.hash(l.Group)] = int8(si)
		for _, rec := range l.Records {
			if _, ok := c.evalRecs[rec]; ok {
				return leak(lpath, row, "eval record %s is behind a training row", rec)
			}
			cl := c.clusterOf(rec)
			if _, ok := c.evalClusters[cl]; ok {
				return leak(lpath, row, "record %s shares a near-duplicate cluster with an eval record", rec)
			}
			if s, ok := c.clusterSplit[cl]; ok && s != int8(si) {
				return leak(lpath, row, "the cluster of record %s is in %s and %s", rec, schemas.Splits[s], split)
			}
			c.clusterSplit[cl] = int8(si)
		}
		row++
	}
	if row != int64(len(ids)) {
		return leak(lpath, row, "lineage has %d rows, %s has %d", row, path, len(ids))
	}
	c.rep.RowsScanned += int64(len(ids))
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// runeOffsets lists the byte offset of every rune of s, and len(s) last.
func runeOffsets(s string) []int {
	offs := make([]int, 0, len(s)/3+1)
	for i := range s {
		offs = append(offs, i)
	}
	return append(offs, len(s))
}

// scanStage calls fn with every text field of every row of a stage file
// (question says whether the field is something a row asks) and returns
// the row ids in order.
func scanStage(path string, st schemas.Stage, fn func(row int64, kind, text string, question bool) error) ([]string, error) {
	var ids []string
	scan := func(seq func(yield func(int64, error) bool)) error {
		for _, err := range seq {
			if err != nil {
				return err
			}
		}
		return nil
	}
	sp, ok := schemas.Spec(st)
	if !ok {
		return nil, fmt.Errorf("%s: stage %q is not in the stage table", path, st)
	}
	var err error
	switch sp.Shape {
	case schemas.ShapeText:
		err = scan(rows(schemas.ReadFile[schemas.DCPTRow](path), func(i int64, r schemas.DCPTRow) error {
			ids = append(ids, r.ID)
			return fn(i, r.Kind, r.Text, false)
		}))
	case schemas.ShapeChat:
		err = scan(rows(schemas.ReadFile[schemas.SFTRow](path), func(i int64, r schemas.SFTRow) error {
			ids = append(ids, r.ID)
			for _, m := range r.Messages {
				if err := fn(i, r.Kind, m.Content, m.Role == schemas.RoleUser); err != nil {
					return err
				}
			}
			return nil
		}))
	case schemas.ShapePair:
		err = scan(rows(schemas.ReadFile[schemas.DPORow](path), func(i int64, r schemas.DPORow) error {
			ids = append(ids, r.ID)
			for j, t := range []string{r.Prompt, r.Chosen, r.Rejected} {
				if err := fn(i, r.Kind, t, j == 0); err != nil {
					return err
				}
			}
			return nil
		}))
	default:
		err = fmt.Errorf("%s: no reader for row shape %q", path, sp.Shape)
	}
	return ids, err
}

// rows numbers a file's rows and applies fn to each, stopping at the first
// error.
func rows[T any](seq iter.Seq2[T, error], fn func(int64, T) error) func(yield func(int64, error) bool) {
	return func(yield func(int64, error) bool) {
		var i int64
		for r, err := range seq {
			if err == nil {
				err = fn(i, r)
			}
			if !yield(i, err) || err != nil {
				return
			}
			i++
		}
	}
}

// idCluster reads only the id and cluster columns of a clean file.
type idCluster struct {
	ID      string `parquet:"id"`
	Cluster string `parquet:"cluster"`
}

// kgEntities maps every clean knowledge-graph record to its head and tail
// as stage text spells them.
func kgEntities(ws workspace.Dir) (map[string][2]string, error) {
	m := map[string][2]string{}
	for r, err := range schemas.ReadDir[schemas.Triple](ws.Clean(schemas.KindKG)) {
		if err != nil {
			return nil, err
		}
		h, t := kg.EntityNames(r)
		m[r.ID] = [2]string{h, t}
	}
	return m, nil
}

// lineageCursor reads a lineage file alongside its stage file: at(row)
// returns lineage row `row` (empty past the file's end), rows being asked
// for in increasing order; at(-1) releases the file.
func lineageCursor(path string) func(row int64) (LineageRow, error) {
	next, stop := iter.Pull2(schemas.ReadFile[LineageRow](path))
	var cur LineageRow
	at := int64(-1)
	return func(row int64) (LineageRow, error) {
		if row < 0 {
			stop()
			return cur, nil
		}
		for at < row {
			l, err, ok := next()
			if err != nil {
				return cur, err
			}
			if !ok {
				// A short lineage file is reported by the lineage check;
				// here the row just has no records, so its text is
				// scanned whole.
				return LineageRow{}, nil
			}
			cur, at = l, at+1
		}
		return cur, nil
	}
}

// cleanClusters maps every clean record that belongs to another record's
// near-duplicate cluster to that cluster id; a record absent from the map
// is its own cluster (clean sets a record's cluster to its own id, or
// leaves it empty, when it has no near duplicate).
func cleanClusters(ws workspace.Dir) (map[string]string, error) {
	m := map[string]string{}
	for _, k := range schemas.Kinds {
		for r, err := range schemas.ReadDir[idCluster](ws.Clean(k)) {
			if err != nil {
				return nil, err
			}
			if r.Cluster != "" && r.Cluster != r.ID {
				m[r.ID] = r.Cluster
			}
		}
	}
	return m, nil
}
