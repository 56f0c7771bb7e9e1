package clean

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func qa(src string, row int, q, a string) schemas.QA {
	return schemas.QA{ID: schemas.StableIDAt(src, "raw/"+src+".jsonl", int64(row), -1), Source: src,
		Question: q, Answer: a, Meta: `{"_file":"raw/` + src + `.jsonl","_row":` + itoa(row) + `}`}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func writeNormalized[T any](t *testing.T, ws workspace.Dir, k schemas.Kind, src string, rows []T) {
	t.Helper()
	path := ws.Path("normalized", string(k), src+"-00000.parquet")
	if _, err := schemas.WriteFile(path, slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
}

func readAll[T any](t *testing.T, dir string) []T {
	t.Helper()
	var out []T
	for r, err := range schemas.ReadDir[T](dir) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

const longAnswer = "高血压患者应当低盐饮食，规律服药，定期监测血压，必要时到心内科复诊调整用药方案。"

// TestRunFixture runs clean on a small hand-made workspace holding one of
// each removal reason and checks every output.
func TestRunFixture(t *testing.T) {
	ws := workspace.Dir(t.TempDir())
	train := []schemas.QA{
		qa("web", 0, "问：高血压患者平时饮食需要注意什么？", longAnswer+"感谢您的咨询，祝您早日康复！"),
		qa("web", 1, "高血压患者平时饮食需要注意什么", longAnswer),                                                                 // exact dup of 0 after normalising
		qa("web", 2, "糖尿病人可以吃西瓜吗？我的电话是13812345678", "血糖控制平稳时可以少量食用西瓜，每次不超过二百克，最好在两餐之间吃，并监测餐后血糖变化。"),                 // PII
		qa("web", 3, "下列哪项是急性心肌梗死最常见的早期症状表现？", "胸痛。"),                                                               // contaminated by eval exam question
		qa("web", 4, "Ｗhat is the best treatment for a cold？", "Rest, fluids and see a doctor if the fever lasts."), // low cjk
		qa("web", 5, "头痛发热三天了，体温最高三十九度，伴有咽痛和全身乏力，请问需要吃什么药，要不要去医院检查血常规？", "好"),                                       // short answer
	}
	writeNormalized(t, ws, schemas.KindQA, "web", train)
	exam := []schemas.ExamQuestion{
		{ID: "00000000000000e1", Source: "cmexam", Question: "下列哪项是急性心肌梗死最常见的早期症状", Answer: "A",
			Options: []schemas.Option{{Label: "A", Text: "胸痛"}, {Label: "B", Text: "头痛"}}, Meta: "{}"},
		{ID: "00000000000000e2", Source: "cmexam", Question: "青霉素最常见的不良反应是", Answer: "E",
			Options: []schemas.Option{{Label: "A", Text: "过敏"}, {Label: "B", Text: "腹泻"}}, Meta: "{}"},
	}
	writeNormalized(t, ws, schemas.KindExam, "cmexam", exam)
	dialogues := []schemas.Dialogue{
		{ID: "00000000000000d1", Source: "web", Meta: "{}", Turns: []schemas.Turn{{Role: "user", Content: "病人：医生你好，我最近总是失眠怎么办"}}},
	}
	writeNormalized(t, ws, schemas.KindDialogue, "web", dialogues)

	rep, err := Run(context.Background(), Options{Workspace: ws,
		Sources: []Source{{Name: "web"}, {Name: "cmexam", Eval: true}}})
	if err != nil {
		t.Fatal(err)
	}
	checkFixtureReport(t, ws)
	web := rep.Sources["web"]
	wantRemoved := map[string]int64{"duplicate": 1, "contaminated": 1, "low_cjk": 1, "short_answer": 1, "missing_role": 1}
	if web.In != 7 || web.Kept != 2 || !mapsEqual(web.Removed, wantRemoved) {
		t.Errorf("web counts = %+v, want in 7, kept 2, removed %v", web, wantRemoved)
	}
	if c := rep.Sources["cmexam"]; c.In != 2 || c.Kept != 1 || c.Removed["bad_answer_label"] != 1 {
		t.Errorf("cmexam counts = %+v", c)
	}
	if rep.Rewrites.PII["phone"] != 1 || rep.Rewrites.Normalise["signoffs"] != 1 || rep.Rewrites.Normalise["width"] != 1 {
		t.Errorf("rewrites = %+v", rep.Rewrites)
	}
	kept := readAll[schemas.QA](t, ws.Clean(schemas.KindQA))
	if len(kept) != 2 || kept[0].Question != "高血压患者平时饮食需要注意什么？" || kept[0].Answer != longAnswer ||
		kept[1].Question != "糖尿病人可以吃西瓜吗？我的电话是[PHONE]" {
		t.Errorf("clean qa = %+v", kept)
	}
	for _, r := range kept {
		if r.Cluster != r.ID {
			t.Errorf("row %s: cluster %q, want its own id", r.ID, r.Cluster)
		}
	}
	removed := readAll[schemas.RemovedRow](t, ws.Removed())
	byReason := map[string]schemas.RemovedRow{}
	for _, r := range removed {
		byReason[r.Reason] = r
	}
	if d := byReason["duplicate"]; d.ID != train[1].ID || d.Detail != train[0].ID {
		t.Errorf("duplicate row = %+v, want id %s detail %s", d, train[1].ID, train[0].ID)
	}
	if c := byReason["contaminated"]; c.ID != train[3].ID || c.Detail != "00000000000000e1" {
		t.Errorf("contaminated row = %+v", c)
	}
	asRead := map[string]any{}
	for _, r := range train {
		asRead[r.ID] = r
	}
	for _, r := range exam {
		asRead[r.ID] = r
	}
	for _, r := range dialogues {
		asRead[r.ID] = r
	}
	checkOriginals(t, removed, asRead)
	var back schemas.QA
	if err := json.Unmarshal([]byte(byReason["short_answer"].Record), &back); err != nil || back != train[5] {
		t.Errorf("removed record does not round-trip: %v %+v", err, back)
	}
	if _, err := os.Stat(ws.Path("clean", ".staging")); !os.IsNotExist(err) {
		t.Errorf("staging folder left behind: %v", err)
	}
	checkReruns(t, ws, []Source{{Name: "web"}, {Name: "cmexam", Eval: true}})
}

// checkFixtureReport compares reports/clean.json with its golden file.
func checkFixtureReport(t *testing.T, ws workspace.Dir) {
	t.Helper()
	got, err := os.ReadFile(ws.Report("clean.json"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "fixture-report.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(golden); err != nil || string(want) != string(got) {
		t.Errorf("reports/clean.json differs from %s (go test -run TestRunFixture -update rewrites it): %v\n%s", golden, err, got)
	}
}

// checkReruns: a second run gives the same bytes, and so does one that
// finishes each kind before the next (source web has rows of two kinds, so
// its removed/ rows of the second wait for the first to be written).
func checkReruns(t *testing.T, ws workspace.Dir, sources []Source) {
	t.Helper()
	first := outputBytes(t, ws)
	for _, serial := range []bool{false, true} {
		was := SetSerialKinds(serial)
		if _, err := Run(context.Background(), Options{Workspace: ws, Sources: sources}); err != nil {
			t.Fatal(err)
		}
		SetSerialKinds(was)
		compareOutputs(t, first, outputBytes(t, ws))
	}
}

// checkOriginals checks that every removed row carries the row as read, as
// encoding/json writes it, whatever removed it.
func checkOriginals(t *testing.T, removed []schemas.RemovedRow, asRead map[string]any) {
	t.Helper()
	for _, r := range removed {
		in, ok := asRead[r.ID]
		if !ok {
			t.Errorf("removed row %s (%s) is not an input row", r.ID, r.Reason)
			continue
		}
		want, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Record != string(want) {
			t.Errorf("removed row %s (%s): record\n%s\nwant the row as read\n%s", r.ID, r.Reason, r.Record, want)
		}
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestNearDedupClusters plants a near duplicate (removed) and a looser
// relative (kept, in the same cluster) of one row.
func TestNearDedupClusters(t *testing.T) {
	base := []rune("高血压是以体循环动脉血压增高为主要特征的临床综合征，常伴有心脑肾等器官的功能或器质性损害。" +
		"其病因包括遗传因素、高盐饮食、肥胖、长期精神紧张和缺乏运动等。典型症状有头晕、头痛、心悸、耳鸣，部分患者无明显不适。" +
		"治疗以生活方式干预为基础，包括限盐、减重、戒烟限酒和规律运动，必要时在医生指导下长期服用降压药物并定期监测血压。")
	edit := func(k int) string {
		rs := slices.Clone(base)
		for i := 0; i < k; i++ {
			rs[10+i*12] = '某'
		}
		return string(rs)
	}
	texts := []string{string(base), edit(2), edit(7), "糖尿病是一组以高血糖为特征的代谢性疾病，高血糖则是由于胰岛素分泌缺陷或其生物作用受损引起。长期存在的高血糖导致各种组织慢性损害。"}
	mh, _ := dedup.NewMinHasher(dedup.ShingleChar, 5, 16, 6)
	jac := func(a, b string) float64 {
		sa, _ := mh.Shingles([]string{a}, nil, nil)
		sb, _ := mh.Shingles([]string{b}, nil, nil)
		setA, _ := dedup.ShingleSet(sa, nil)
		setB, _ := dedup.ShingleSet(sb, nil)
		return dedup.Jaccard(setA, setB)
	}
	if j := jac(texts[0], texts[1]); j < 0.8 {
		t.Fatalf("fixture: near duplicate has Jaccard %.3f", j)
	}
	if j := jac(texts[0], texts[2]); j < 0.6 || j >= 0.8 {
		t.Fatalf("fixture: relative has Jaccard %.3f, want [0.6, 0.8)", j)
	}
	ws := workspace.Dir(t.TempDir())
	var rows []schemas.Text
	for i, s := range texts {
		if i == 1 {
			s = "\u200b" + s + "  " // normalisation rewrites it: removed/ must still get it as read
		}
		rows = append(rows, schemas.Text{ID: schemas.StableIDAt("book", "raw/book.txt", int64(i), -1), Source: "book", Text: s, Meta: "{}"})
	}
	writeNormalized(t, ws, schemas.KindText, "book", rows)
	rep, err := Run(context.Background(), Options{Workspace: ws, Sources: []Source{{Name: "book"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Sources["book"]; c.Kept != 3 || c.Removed[ReasonNearDuplicate] != 1 {
		t.Fatalf("counts %+v", c)
	}
	kept := readAll[schemas.Text](t, ws.Clean(schemas.KindText))
	wantCluster := []string{rows[0].ID, rows[0].ID, rows[3].ID}
	for i, r := range kept {
		if r.Cluster != wantCluster[i] {
			t.Errorf("clean row %d (%s): cluster %s, want %s", i, r.ID, r.Cluster, wantCluster[i])
		}
	}
	removed := readAll[schemas.RemovedRow](t, ws.Removed())
	if len(removed) != 1 || removed[0].ID != rows[1].ID || removed[0].Detail != rows[0].ID || removed[0].Reason != ReasonNearDuplicate {
		t.Errorf("removed = %+v", removed)
	}
	checkOriginals(t, removed, map[string]any{rows[1].ID: rows[1]})
}

// outputBytes reads every file clean wrote: clean/, removed/ and its report.
func outputBytes(t *testing.T, ws workspace.Dir) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range []string{ws.Path("clean"), ws.Removed()} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			out[path] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(ws.Report("clean.json"))
	if err != nil {
		t.Fatal(err)
	}
	out[ws.Report("clean.json")] = string(b)
	return out
}

// compareOutputs fails on any file that is in one set and not the other or
// whose bytes differ.
func compareOutputs(t *testing.T, serial, overlapped map[string]string) {
	t.Helper()
	for path, b := range serial {
		if o, ok := overlapped[path]; !ok {
			t.Errorf("%s: written only when kinds run one after another", path)
		} else if o != b {
			t.Errorf("%s: %d bytes when kinds overlap, %d when they do not", path, len(o), len(b))
		}
	}
	for path := range overlapped {
		if _, ok := serial[path]; !ok {
			t.Errorf("%s: written only when kinds overlap", path)
		}
	}
	t.Logf("compared %d files", len(serial))
	if len(serial) < 3 {
		t.Errorf("only %d files compared", len(serial))
	}
}

// The finisher runs finishes one at a time in the order added; after one
// fails, the rest are dropped (aborted), and every flight's done closes.
func TestFinisher(t *testing.T) {
	var log []string
	var mu sync.Mutex
	note := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	tail := func(name string, err error) *kindTail {
		return &kindTail{
			finish: func() error {
				note("finish " + name)
				time.Sleep(time.Millisecond) // a later finish must not overtake
				return err
			},
			abort: func() { note("abort " + name) },
		}
	}
	boom := errors.New("boom")
	f := startFinisher(4)
	var flights []*flight
	for _, tc := range []struct {
		name string
		err  error
	}{{"a", nil}, {"b", boom}, {"c", nil}} {
		fl := &flight{done: make(chan struct{})}
		flights = append(flights, fl)
		if !f.add(tail(tc.name, tc.err), fl) {
			t.Fatalf("%s not taken", tc.name)
		}
	}
	if err := f.close(); !errors.Is(err, boom) {
		t.Fatalf("close = %v, want boom", err)
	}
	for i, fl := range flights {
		select {
		case <-fl.done:
		default:
			t.Errorf("flight %d still open", i)
		}
	}
	if want := []string{"finish a", "finish b", "abort b", "abort c"}; !slices.Equal(log, want) {
		t.Errorf("log %q, want %q", log, want)
	}
	if f.add(tail("d", nil), &flight{done: make(chan struct{})}) {
		t.Error("a finisher that failed took another kind")
	}

	// stop lets the running finish end and drops the waiting ones.
	log = nil
	f = startFinisher(4)
	started, release := make(chan struct{}), make(chan struct{})
	f.add(&kindTail{finish: func() error { close(started); <-release; note("finish x"); return nil },
		abort: func() { note("abort x") }}, &flight{done: make(chan struct{})})
	<-started
	f.add(tail("y", nil), &flight{done: make(chan struct{})})
	go func() { time.Sleep(5 * time.Millisecond); close(release) }()
	f.stop()
	if want := []string{"finish x", "abort y"}; !slices.Equal(log, want) {
		t.Errorf("after stop: log %q, want %q", log, want)
	}
}
