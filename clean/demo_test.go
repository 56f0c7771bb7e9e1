package clean_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/demo"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// loc is a raw record's place, as ingest's meta records it.
type loc struct {
	source, file string
	row          int64
}

// outcome is what clean did with one normalized row.
type outcome struct {
	id      string
	kept    bool
	reason  string // when removed
	detail  string
	text    string // the clean row's text fields, when kept
	cluster string
	input   string // the normalized row's text fields
}

// workspaceOutcomes reads normalized/, clean/ and removed/ and returns every
// row's outcome by raw location (fan-out rows share a location).
func workspaceOutcomes(t *testing.T, ws workspace.Dir) map[loc][]*outcome {
	t.Helper()
	byID := map[string]*outcome{}
	out := map[loc][]*outcome{}
	add := func(r schemas.Record, meta string) {
		var m struct {
			File string `json:"_file"`
			Row  int64  `json:"_row"`
		}
		if err := json.Unmarshal([]byte(meta), &m); err != nil {
			t.Fatalf("row %s: meta %q: %v", r.RecordID(), meta, err)
		}
		o := &outcome{id: r.RecordID(), input: demo.RecordText(r)}
		byID[o.id] = o
		l := loc{r.RecordSource(), m.File, m.Row}
		out[l] = append(out[l], o)
	}
	kept := func(r schemas.Record) {
		o := byID[r.RecordID()]
		if o == nil {
			t.Fatalf("clean row %s is not in normalized/", r.RecordID())
		}
		o.kept, o.text, o.cluster = true, demo.RecordText(r), r.ClusterID()
	}
	forKind(t, ws, schemas.KindText, func(r *schemas.Text) string { return r.Meta }, add, kept)
	forKind(t, ws, schemas.KindQA, func(r *schemas.QA) string { return r.Meta }, add, kept)
	forKind(t, ws, schemas.KindKG, func(r *schemas.Triple) string { return r.Meta }, add, kept)
	forKind(t, ws, schemas.KindDialogue, func(r *schemas.Dialogue) string { return r.Meta }, add, kept)
	forKind(t, ws, schemas.KindPreference, func(r *schemas.PreferencePair) string { return r.Meta }, add, kept)
	forKind(t, ws, schemas.KindExam, func(r *schemas.ExamQuestion) string { return r.Meta }, add, kept)
	for r, err := range schemas.ReadDir[schemas.RemovedRow](ws.Removed()) {
		if err != nil {
			t.Fatal(err)
		}
		o := byID[r.ID]
		if o == nil || o.kept || o.reason != "" {
			t.Fatalf("removed row %s is unknown, kept or removed twice", r.ID)
		}
		o.reason, o.detail = r.Reason, r.Detail
	}
	for id, o := range byID {
		if !o.kept && o.reason == "" {
			t.Errorf("row %s is neither in clean/ nor in removed/", id)
		}
	}
	return out
}

func forKind[T any, P interface {
	*T
	schemas.Record
}](t *testing.T, ws workspace.Dir, k schemas.Kind, meta func(P) string, add func(schemas.Record, string), kept func(schemas.Record)) {
	for r, err := range schemas.ReadDir[T](ws.Normalized(k)) {
		if err != nil {
			t.Fatal(err)
		}
		add(P(&r), meta(P(&r)))
	}
	for r, err := range schemas.ReadDir[T](ws.Clean(k)) {
		if err != nil {
			t.Fatal(err)
		}
		kept(P(&r))
	}
}

// ingestedDemo writes the default demo into a temporary workspace and
// ingests it: the truth the demo planted and the options that clean it.
func ingestedDemo(t *testing.T) (workspace.Dir, *demo.Truth, clean.Options) {
	t.Helper()
	dir := t.TempDir()
	truth, err := demo.Generate(dir, demo.Options{Seed: demo.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ws := workspace.Dir(dir)
	if _, err := ingest.Run(context.Background(), ws, cfg.Sources, ingest.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	var sources []clean.Source
	for _, s := range cfg.Sources {
		sources = append(sources, clean.Source{Name: s.Name, Eval: s.IsEval()})
	}
	return ws, truth, clean.Options{Workspace: ws, Sources: sources, Config: cfg.Clean}
}

// TestDemoAcceptance is issue #3's acceptance on the demo: demo → ingest →
// clean in a temporary workspace, checked against demo-truth.json.
func TestDemoAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	ws, truth, o := ingestedDemo(t)
	ctx := context.Background()
	rep, err := clean.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range rep.Sources {
		sum := c.Kept
		for _, n := range c.Removed {
			sum += n
		}
		if sum != c.In {
			t.Errorf("source %s: in %d ≠ kept %d + removed %v", name, c.In, c.Kept, c.Removed)
		}
	}
	d := &demoOutcomes{outcomes: workspaceOutcomes(t, ws)}
	checkDemoExactDups(t, truth, d)
	checkDemoNearDups(t, truth, d)
	checkDemoPII(t, truth, d)
	checkDemoContamination(t, truth, d)
	if d.missing > 0 {
		t.Logf("%d planted rows were not written by ingest and could not be checked", d.missing)
	}

	// Each kind's last pass runs beside the next kind; finishing each kind
	// first must write the same files, byte for byte.
	overlapped := clean.OutputBytes(t, ws)
	defer clean.SetSerialKinds(clean.SetSerialKinds(true))
	if _, err := clean.Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	clean.CompareOutputs(t, clean.OutputBytes(t, ws), overlapped)
}

// demoOutcomes are the outcomes of the demo's rows by where ingest read
// them, and a count of planted rows ingest did not write (its business,
// not clean's).
type demoOutcomes struct {
	outcomes map[loc][]*outcome
	missing  int
}

func (d *demoOutcomes) at(source, file string, row int64) []*outcome {
	return d.outcomes[loc{source, file, row}]
}

// one is the outcome of the row at p, nil unless there is exactly one.
func (d *demoOutcomes) one(p demo.Loc) *outcome {
	os := d.at(p.Source, p.File, p.Row)
	if len(os) != 1 {
		return nil
	}
	return os[0]
}

// checkDemoExactDups: of each planted exact pair one row is kept.
func checkDemoExactDups(t *testing.T, truth *demo.Truth, d *demoOutcomes) {
	for _, p := range truth.Select(demo.ExactDup) {
		a, b := d.one(p.Loc), d.one(*p.Of)
		if a == nil || b == nil {
			d.missing++
			continue
		}
		if a.kept == b.kept || !a.kept && a.reason != clean.ReasonDuplicate || !b.kept && b.reason != clean.ReasonDuplicate {
			t.Errorf("exact dup %s row %d of row %d: outcomes %+v and %+v, want one kept and one %q",
				p.File, p.Row, p.Of.Row, *a, *b, clean.ReasonDuplicate)
		}
	}
}

// checkDemoNearDups: near-dedup's recall and precision on planted pairs,
// and near-distinct pairs kept apart.
func checkDemoNearDups(t *testing.T, truth *demo.Truth, d *demoOutcomes) {
	// Near duplicates: recall over planted pairs (Jaccard ≥ 0.8), precision
	// over every near_duplicate removal (the demo guards unplanted records
	// against being near duplicates of each other).
	planted := map[[2]string]bool{}
	var found, want int
	for _, p := range truth.Select(demo.NearDup) {
		a, b := d.one(p.Loc), d.one(*p.Of)
		if a == nil || b == nil {
			d.missing++
			continue
		}
		if p.Jaccard < 0.8 {
			continue
		}
		want++
		planted[[2]string{a.id, b.id}], planted[[2]string{b.id, a.id}] = true, true
		removedAsDup := func(o *outcome) bool {
			return o.reason == clean.ReasonNearDuplicate || o.reason == clean.ReasonDuplicate
		}
		if a.kept != b.kept && (removedAsDup(a) || removedAsDup(b)) {
			found++
		} else {
			t.Logf("near dup missed: %s row %d of row %d (Jaccard %.3f): %+v / %+v", p.File, p.Row, p.Of.Row, p.Jaccard, *a, *b)
		}
	}
	removedNear, truePos := 0, 0
	for _, os := range d.outcomes {
		for _, o := range os {
			if o.reason == clean.ReasonNearDuplicate {
				removedNear++
				if planted[[2]string{o.id, o.detail}] {
					truePos++
				}
			}
		}
	}
	recall := float64(found) / float64(max(want, 1))
	precision := float64(truePos) / float64(max(removedNear, 1))
	fmt.Printf("near-dedup on the demo: recall %.3f (%d/%d planted pairs), precision %.3f (%d/%d removals)\n",
		recall, found, want, precision, truePos, removedNear)
	if recall < 0.95 {
		t.Errorf("near-dedup recall %.3f < 0.95", recall)
	}
	compareShingles(t, truth, d.one)
	for _, p := range truth.Select(demo.NearDistinct) {
		a, b := d.one(p.Loc), d.one(*p.Of)
		if a == nil || b == nil {
			d.missing++
			continue
		}
		if !a.kept && a.reason == clean.ReasonNearDuplicate || !b.kept && b.reason == clean.ReasonNearDuplicate {
			t.Errorf("near-distinct pair %s rows %d and %d: one removed as a near duplicate", p.File, p.Row, p.Of.Row)
		}
	}
	if truth.Guarded && truePos != removedNear {
		t.Errorf("%d near_duplicate removals are not planted pairs (false removals)", removedNear-truePos)
	}
}

// checkDemoPII: planted personal data masked, decoys left alone.
func checkDemoPII(t *testing.T, truth *demo.Truth, d *demoOutcomes) {
	for _, p := range truth.Select(demo.PIIValue) {
		os := d.at(p.Source, p.File, p.Row)
		if len(os) == 0 {
			d.missing++
			continue
		}
		for _, o := range os {
			if !o.kept {
				if !strings.Contains(o.reason, "dup") {
					t.Errorf("PII row %s row %d removed as %s", p.File, p.Row, o.reason)
				}
				continue
			}
			if strings.Contains(o.text, p.PII.Value) || !strings.Contains(o.text, p.PII.Placeholder) {
				t.Errorf("PII %s %q at %s row %d not masked as %s: %q", p.PII.Type, p.PII.Value, p.File, p.Row, p.PII.Placeholder, o.text)
			}
		}
	}
	for _, p := range truth.Select(demo.PIIDecoy) {
		for _, o := range d.at(p.Source, p.File, p.Row) {
			if o.kept && !strings.Contains(o.text, p.Needle) {
				t.Errorf("PII decoy %q at %s row %d was changed: %q", p.Needle, p.File, p.Row, o.text)
			}
		}
	}
}

// checkDemoContamination: planted copies of eval rows removed, the eval
// rows kept.
func checkDemoContamination(t *testing.T, truth *demo.Truth, d *demoOutcomes) {
	for _, p := range truth.Select(demo.Contamination) {
		o, ev := d.one(p.Loc), d.one(*p.Of)
		if o == nil || ev == nil {
			d.missing++
			continue
		}
		if o.reason != clean.ReasonContaminated {
			t.Errorf("contamination %s row %d (of %s row %d) not removed: %+v", p.File, p.Row, p.Of.Source, p.Of.Row, *o)
		}
		if !ev.kept {
			t.Errorf("eval row %s row %d was removed: %+v", p.Of.Source, p.Of.Row, *ev)
		}
	}
}

// compareShingles measures character n-grams against jieba-word n-grams on
// the demo's planted near duplicates (which must score ≥ 0.8) and
// near-distinct pairs (same template, another disease: must score low), the
// numbers the package doc quotes for choosing character 5-grams.
func compareShingles(t *testing.T, truth *demo.Truth, one func(demo.Loc) *outcome) {
	type mode struct {
		shingle string
		n       int
	}
	for _, m := range []mode{{dedup.ShingleChar, 3}, {dedup.ShingleChar, 5}, {dedup.ShingleWord, 1}, {dedup.ShingleWord, 2}, {dedup.ShingleWord, 3}} {
		mh, err := dedup.NewMinHasher(m.shingle, m.n, 16, 6)
		if err != nil {
			t.Logf("shingle %s: %v", m.shingle, err)
			continue
		}
		jac := func(a, b string) float64 {
			sa, _ := mh.Shingles([]string{a}, nil, nil)
			sb, _ := mh.Shingles([]string{b}, nil, nil)
			slices.Sort(sa)
			slices.Sort(sb)
			return dedup.Jaccard(slices.Compact(sa), slices.Compact(sb))
		}
		var dupMin, distinctMax = 1.0, 0.0
		var dupSum float64
		var dups, dupsAbove, distinct int
		for _, p := range truth.Select(demo.NearDup) {
			a, b := one(p.Loc), one(*p.Of)
			if a == nil || b == nil || p.Jaccard < 0.8 {
				continue
			}
			j := jac(a.input, b.input)
			dups++
			dupSum += j
			dupMin = min(dupMin, j)
			if j >= 0.8 {
				dupsAbove++
			}
		}
		for _, p := range truth.Select(demo.NearDistinct) {
			a, b := one(p.Loc), one(*p.Of)
			if a == nil || b == nil {
				continue
			}
			distinct++
			distinctMax = max(distinctMax, jac(a.input, b.input))
		}
		fmt.Printf("shingles %s-%d: near dups (%d) mean J %.3f, min %.3f, %d/%d ≥ 0.8; near-distinct (%d) max J %.3f\n",
			m.shingle, m.n, dups, dupSum/float64(max(dups, 1)), dupMin, dupsAbove, dups, distinct, distinctMax)
	}
}
