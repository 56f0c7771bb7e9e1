package kg

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

func tr(id, h, r, t string) schemas.Triple {
	return schemas.Triple{ID: id, Source: "kg1", Head: h, Relation: r, Tail: t}
}

func TestCanonicalize(t *testing.T) {
	table := NewRelationTable(map[string]string{"临床症状": "symptom"})
	cases := []struct {
		name      string
		in        schemas.Triple
		why       string
		head, rel string
		tail      string
	}{
		{"chinese relation", tr("1", " 糖尿病 ", "症状", "多饮"), "", "糖尿病", "症状", "多饮"},
		{"english alias", tr("2", "糖尿病", "symptom", "多尿"), "", "糖尿病", "症状", "多尿"},
		{"snake alias", tr("3", "糖尿病", "Has-Symptom", "消瘦"), "", "糖尿病", "症状", "消瘦"},
		{"config alias of alias", tr("4", "糖尿病", "临床症状", "乏力"), "", "糖尿病", "症状", "乏力"},
		{"cmeie predicate", tr("5", "肺癌", "相关（症状）", "咳嗽"), "", "肺癌", "症状", "咳嗽"},
		{"unknown relation kept", tr("6", "肺癌", " 预后状况 ", "差"), "", "肺癌", "预后状况", "差"},
		{"trailing punctuation", tr("7", "高血压。", "并发症", "脑卒中；"), "", "高血压", "并发症", "脑卒中"},
		{"ideographic space", tr("8", "\u3000感冒\u200b", "acompany", "肺炎"), "", "感冒", "并发症", "肺炎"},
		{"empty head", tr("9", "  ", "症状", "发热"), ReasonEmpty, "", "症状", "发热"},
		{"empty relation", tr("10", "感冒", "", "发热"), ReasonEmpty, "感冒", "", "发热"},
		{"self loop", tr("11", "感冒", "同义词", " 感冒"), ReasonSelfLoop, "感冒", "同义词", "感冒"},
		{"truncated ascii", tr("12", "感冒", "症状", "头痛、咽痛..."), ReasonTruncated, "感冒", "症状", "头痛、咽痛..."},
		{"truncated ellipsis", tr("13", "长期服用某药物导致…", "病因", "x"), ReasonTruncated, "长期服用某药物导致…", "病因", "x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in
			why := Canonicalize(&got, table)
			if why != c.why || got.Head != c.head || got.Relation != c.rel || got.Tail != c.tail {
				t.Errorf("got (%q, %q, %q, %q), want (%q, %q, %q, %q)", why, got.Head, got.Relation, got.Tail, c.why, c.head, c.rel, c.tail)
			}
		})
	}
}

func demoGraph() *Graph {
	g := NewGraph(Config{})
	for _, x := range []schemas.Triple{
		tr("a", "糖尿病", "symptom", "多饮"),
		tr("b", "糖尿病", "症状", "多尿"),
		tr("c", "糖尿病", "has_symptom", "多饮"), // duplicate after mapping
		tr("d", "糖尿病", "cure_department", "内分泌科"),
		tr("e", "糖尿病", "common_drug", "二甲双胍"),
		tr("f", "糖尿病", "类别", "疾病"),
		tr("g", "糖尿病", "预后状况", "良好"),
		tr("h", "高血压", "acompany", "脑卒中"),
		tr("i", "高血压", "高血压", "高血压"),
		tr("j", "高血压", "check", "血压测量..."),
	} {
		g.Add(x)
	}
	return g
}

func TestGraphDedupAndOrder(t *testing.T) {
	g := demoGraph()
	heads := g.Heads()
	if len(heads) != 2 || heads[0].Head != "糖尿病" || heads[1].Head != "高血压" {
		t.Fatalf("heads = %v", heads)
	}
	var rels []string
	for _, f := range heads[0].Facts {
		rels = append(rels, f.Relation+"="+strings.Join(f.Tails, "|"))
	}
	want := "类别=疾病 症状=多饮|多尿 就诊科室=内分泌科 常用药物=二甲双胍 预后状况=良好"
	if got := strings.Join(rels, " "); got != want {
		t.Errorf("facts = %s\nwant    %s", got, want)
	}
	s := g.Stats()
	if s.In != 10 || s.Triples != 7 || s.Dropped[ReasonDuplicate] != 1 || s.Dropped[ReasonSelfLoop] != 1 || s.Dropped[ReasonTruncated] != 1 {
		t.Errorf("stats = %+v", s)
	}
	if s.In != s.Triples+s.Dropped[ReasonDuplicate]+s.Dropped[ReasonSelfLoop]+s.Dropped[ReasonTruncated]+s.Dropped[ReasonEmpty] {
		t.Errorf("counts do not add up: %+v", s)
	}
	if s.Entities != 9 || s.Heads != 2 || s.TopRelations[0] != (NameCount{"症状", 2}) {
		t.Errorf("stats = %+v", s)
	}
}

func TestGroupKeyJoinsClusters(t *testing.T) {
	g := NewGraph(Config{})
	a := tr("1", "糖尿病", "症状", "多饮")
	a.Cluster = "c1"
	b := tr("2", "II型糖尿病", "症状", "多饮 ")
	b.Cluster = "c1"
	c := tr("3", "感冒", "症状", "发热")
	g.Add(a)
	g.Add(b)
	g.Add(c)
	if g.GroupKey("糖尿病") != g.GroupKey("II型糖尿病") {
		t.Error("heads joined by a cluster have different group keys")
	}
	if g.GroupKey("感冒") == g.GroupKey("糖尿病") {
		t.Error("unrelated heads share a group key")
	}
}

// TestVerbalizeGolden pins the paragraph and questions of the small graph.
func TestVerbalizeGolden(t *testing.T) {
	g := demoGraph()
	var b strings.Builder
	for _, h := range g.Heads() {
		b.WriteString(g.Verbalize(h) + "\n")
		for _, q := range g.Questions(h, Config{MaxAnswerTails: 1}) {
			b.WriteString("Q: " + q.Question + "\nA: " + q.Answer + "\n")
		}
	}
	golden := filepath.Join("testdata", "verbalize.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestQuestionsCapTails(t *testing.T) {
	g := NewGraph(Config{})
	for i, s := range []string{"多饮", "多尿", "多食", "消瘦"} {
		g.Add(tr(string(rune('a'+i)), "糖尿病", "症状", s))
	}
	qs := g.Questions(g.Heads()[0], Config{MaxAnswerTails: 2})
	if len(qs) != 1 || !strings.Contains(qs[0].Answer, "多饮、多尿等") || len(qs[0].IDs) != 2 {
		t.Errorf("questions = %+v", qs)
	}
	if !strings.HasSuffix(qs[0].Question, "？") {
		t.Errorf("question %q does not end in ？", qs[0].Question)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		bad string
	}{
		{Config{}, ""},
		{Config{MaxAnswerTails: -1}, "max_answer_tails"},
		{Config{Relations: map[string]string{" ": "症状"}}, "relations"},
		{Config{Relations: map[string]string{"x": ""}}, "relations[x]"},
	} {
		err := c.cfg.Validate()
		if (err == nil) != (c.bad == "") || (err != nil && !strings.Contains(err.Error(), c.bad)) {
			t.Errorf("%+v: err = %v, want mention of %q", c.cfg, err, c.bad)
		}
	}
}

// TestSharedCorpusKBERT canonicalises the real K-BERT medical triples.
func TestSharedCorpusKBERT(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "corpus", "kg", "K-BERT-Medical-spo", "Medical.spo")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared corpus not present: %v", err)
	}
	defer f.Close()
	g := NewGraph(Config{})
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 3 {
			continue
		}
		g.Add(tr(string(rune(n)), p[0], p[1], p[2]))
		n++
	}
	s := g.Stats()
	dropped := 0
	for _, v := range s.Dropped {
		dropped += v
	}
	if s.In != n || s.Triples+dropped != n || s.Triples < n/2 {
		t.Fatalf("stats do not add up: read %d, %+v", n, s)
	}
	if s.Relations != 1 || s.TopRelations[0].Name != "类别" {
		t.Errorf("K-BERT has one relation 类别, got %+v", s.TopRelations)
	}
	h := g.Heads()[0]
	if p := g.Verbalize(h); !strings.HasPrefix(p, h.Head) {
		t.Errorf("paragraph %q does not start with its head %q", p, h.Head)
	}
	b, _ := json.Marshal(s)
	t.Logf("K-BERT: %s", b)
}

// FuzzCanonicalize checks that no input panics, that a kept triple has
// non-empty, distinct, trimmed entities and that canonicalising is stable.
func FuzzCanonicalize(f *testing.F) {
	f.Add(" 糖尿病 ", "has_symptom", "多饮。")
	f.Add("a", "", "a")
	f.Add("\u3000", "症状", "…")
	table := NewRelationTable(nil)
	f.Fuzz(func(t *testing.T, h, r, tail string) {
		x := schemas.Triple{Head: h, Relation: r, Tail: tail}
		if Canonicalize(&x, table) != "" {
			return
		}
		if x.Head == "" || x.Tail == "" || x.Head == x.Tail || x.Relation == "" {
			t.Fatalf("kept a bad triple %+v", x)
		}
		y := x
		if why := Canonicalize(&y, table); why != "" || y != x {
			t.Fatalf("not idempotent: %+v → %+v (%s)", x, y, why)
		}
	})
}

// TestRenderings checks knowledge augmentation: the first rendering is
// Verbalize's paragraph; every rendering states every fact (each tail list
// appears in each); renderings are distinct and vary fact order or wording;
// and the same input always renders the same.
func TestRenderings(t *testing.T) {
	g := demoGraph()
	varied := 0
	for _, h := range g.Heads() {
		rs := g.Renderings(h, 6)
		if len(rs) == 0 || len(rs) > 6 || rs[0] != g.Verbalize(h) {
			t.Fatalf("%s: %d renderings, first %q", h.Head, len(rs), rs[0])
		}
		if again := g.Renderings(h, 6); !slices.Equal(rs, again) {
			t.Errorf("%s: renderings differ between calls", h.Head)
		}
		for i, r := range rs {
			for _, f := range h.Facts {
				for _, tail := range f.Tails {
					if !strings.Contains(r, tail) {
						t.Errorf("%s rendering %d lost %s %s: %q", h.Head, i, f.Relation, tail, r)
					}
				}
			}
		}
		distinct := map[string]bool{}
		for _, r := range rs {
			distinct[r] = true
		}
		if len(distinct) != len(rs) {
			t.Errorf("%s: repeated renderings %q", h.Head, rs)
		}
		if len(h.Facts) > 1 && len(distinct) > 1 {
			varied++
		}
	}
	if varied == 0 {
		t.Error("no head with several facts got more than one distinct rendering")
	}
	if got := g.Renderings(g.Heads()[0], 0); len(got) != 1 {
		t.Errorf("n=0 gave %d renderings, want Verbalize's one", len(got))
	}
}

// TestQATexts checks the DCPT question text: every wording of every
// relation once, full-sentence and bare answers in turn, answers capped at
// MaxAnswerTails and holding only the head's tails, the tail order varied
// between wordings, and the same input giving the same text.
func TestQATexts(t *testing.T) {
	g := NewGraph(Config{})
	tails := []string{"多饮", "多尿", "多食", "消瘦", "乏力", "口渴"}
	for i, s := range tails {
		g.Add(tr(string(rune('a'+i)), "糖尿病", "症状", s))
	}
	g.Add(tr("z", "糖尿病", "cure_department", "内分泌科"))
	h := g.Heads()[0]
	cases := []struct {
		name     string
		cfg      Config
		inAnswer int // tails each answer lists
	}{
		{"all tails", Config{}, len(tails)},
		{"capped", Config{MaxAnswerTails: 3}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			qs := g.QATexts(h, c.cfg)
			var sym []QAPair
			for _, q := range qs {
				if q.Relation == "症状" {
					sym = append(sym, q)
				}
			}
			want := Relations[g.table.byName["症状"]].Questions
			if len(sym) != len(want) || len(qs) != len(want)+len(Relations[g.table.byName["就诊科室"]].Questions) {
				t.Fatalf("%d symptom texts of %d in all, want one per wording (%d)", len(sym), len(qs), len(want))
			}
			orders := map[string]bool{}
			for i, q := range sym {
				if q.Question != strings.ReplaceAll(want[i], "{h}", "糖尿病") {
					t.Errorf("text %d asks %q, want wording %q", i, q.Question, want[i])
				}
				bare := !strings.Contains(q.Answer, "糖尿病")
				if bare != (i%2 == 1) {
					t.Errorf("text %d answer %q: bare %v, want bare on odd wordings", i, q.Answer, bare)
				}
				n := 0
				for _, tail := range tails {
					if strings.Contains(q.Answer, tail) {
						n++
					}
				}
				if n != c.inAnswer || len(q.IDs) != c.inAnswer {
					t.Errorf("text %d answer %q lists %d tails (%d ids), want %d", i, q.Answer, n, len(q.IDs), c.inAnswer)
				}
				first, at := "", len(q.Answer)
				for _, tail := range tails {
					if k := strings.Index(q.Answer, tail); k >= 0 && k < at {
						first, at = tail, k
					}
				}
				orders[first] = true
			}
			if len(orders) < 2 {
				t.Errorf("every wording lists the tails in one order: %+v", sym)
			}
			if again := g.QATexts(h, c.cfg); !slices.EqualFunc(qs, again, func(a, b QAPair) bool { return a.Question == b.Question && a.Answer == b.Answer }) {
				t.Error("QATexts differs between calls")
			}
		})
	}
}

// TestRenderingsShuffleTails checks that later renderings list a fact's
// tails in other orders, so each tail stands next to the head in some
// rendering, not only the first in the source's list.
func TestRenderingsShuffleTails(t *testing.T) {
	g := NewGraph(Config{})
	tails := []string{"多饮", "多尿", "多食", "消瘦", "乏力"}
	for i, s := range tails {
		g.Add(tr(string(rune('a'+i)), "糖尿病", "症状", s))
	}
	first := map[string]bool{}
	for _, r := range g.Renderings(g.Heads()[0], 8) {
		best, at := "", len(r)
		for _, tail := range tails {
			if k := strings.Index(r, tail); k >= 0 && k < at {
				best, at = tail, k
			}
		}
		first[best] = true
	}
	if len(first) < 3 {
		t.Errorf("eight renderings open the list with only %v", first)
	}
}
