package demo

import (
	"bytes"
	"encoding/csv"
	"math"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/chimed/chimed/schemas"
)

func TestJaccard5(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"高血压的常见症状有头痛", "高血压的常见症状有头痛", 1},
		{"", "", 1},
		{"abcdef", "uvwxyz", 0},
		{"abcdef", "abcdeg", 1.0 / 3}, // {abcde,bcdef} vs {abcde,bcdeg}
		{"abc", "abc", 1},             // shorter than a shingle: the whole string
		{"abcdefg", "abcdefgh", 3.0 / 4},
	} {
		if got := Jaccard5(c.a, c.b); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Jaccard5(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestRecordText(t *testing.T) {
	q := &schemas.QA{Question: "问", Answer: "答"}
	if got := RecordText(q); got != "问\n答" {
		t.Errorf("RecordText = %q", got)
	}
	it := item{kind: schemas.KindQA, title: "问"}
	it.answer = "答"
	if it.canon() != RecordText(q) {
		t.Errorf("canon %q != RecordText %q", it.canon(), RecordText(q))
	}
}

func TestChecksums(t *testing.T) {
	for _, c := range []struct {
		id   string
		want byte
	}{
		{"11010519491231002", 'X'}, // the GB 11643 standard's own example
		{"44052418800101001", '4'},
	} {
		if got := idChecksum(c.id); got != c.want {
			t.Errorf("idChecksum(%s) = %c, want %c", c.id, got, c.want)
		}
	}
	for _, c := range []struct {
		card string
		ok   bool
	}{
		{"4111111111111111", true}, {"6222020200112233440", false}, {"79927398713", true}, {"79927398710", false},
	} {
		if got := luhnValid(c.card); got != c.ok {
			t.Errorf("luhnValid(%s) = %v", c.card, got)
		}
	}
	r := newRNG(1, 1)
	for range 200 {
		if id := residentID(r); idChecksum(id[:17]) != id[17] {
			t.Fatalf("residentID made %s", id)
		}
		if c := bankCard(r); !luhnValid(c) || (len(c) != 16 && len(c) != 19) {
			t.Fatalf("bankCard made %s", c)
		}
		for _, ty := range piiTypes {
			p := newPII(r, ty)
			if p.Value == "" || !strings.Contains(p.Phrase, p.Value) {
				t.Fatalf("%s: %q not in %q", ty, p.Value, p.Phrase)
			}
		}
		d := newDecoy(r)
		if !strings.Contains(d.Phrase, d.Value) {
			t.Fatalf("decoy %q not in %q", d.Value, d.Phrase)
		}
		if len(d.Value) == 18 && d.Value[17] != 'A' && (idChecksum(d.Value[:17]) == d.Value[17] || luhnValid(d.Value)) {
			t.Fatalf("decoy %s passes a check", d.Value)
		}
	}
}

// TestFactBase checks the fact base's size and that everything the
// templates can say is encodable in GBK (the Toyhom source is GBK).
func TestFactBase(t *testing.T) {
	ds := facts()
	if len(ds) < 40 || len(ds) > 80 {
		t.Errorf("%d diseases, want 40-80", len(ds))
	}
	enc := simplifiedchinese.GBK.NewEncoder()
	check := func(where, s string) {
		if _, err := enc.String(s); err != nil {
			t.Errorf("%s: %q is not GBK-encodable", where, s)
		}
	}
	names := map[string]bool{}
	for _, d := range ds {
		if names[d.Name] {
			t.Errorf("%s twice", d.Name)
		}
		names[d.Name] = true
		v := reflect.ValueOf(d)
		for i := 0; i < v.NumField(); i++ {
			switch f := v.Field(i).Interface().(type) {
			case string:
				check(d.Name, f)
				if f == "" {
					t.Errorf("%s: empty %s", d.Name, v.Type().Field(i).Name)
				}
			case []string:
				seen := map[string]bool{}
				for _, x := range f {
					check(d.Name, x)
					if x == "" || seen[x] {
						t.Errorf("%s.%s: empty or repeated item %q", d.Name, v.Type().Field(i).Name, x)
					}
					seen[x] = true
				}
			}
		}
	}
	var all []string
	for _, ts := range [][]string{askTemplates, askExtras, openers, closings, genericRejected, unsafeRejected, toyhomSignOffs, questionWraps} {
		all = append(all, ts...)
	}
	for _, group := range [][numQTypes][]string{coreTemplates, titleTemplates, evalTitleTemplates} {
		for _, ts := range group {
			all = append(all, ts...)
		}
	}
	for _, s := range all {
		check("template", s)
	}
}

// TestRenderersAgreeWithFacts spot-checks that exam answers are the facts'.
func TestRenderersAgreeWithFacts(t *testing.T) {
	rd := &renderer{r: newRNG(3, 3), ds: facts()}
	for i := range 500 {
		di, et := i%len(rd.ds), i%numETypes
		it, ok := rd.exam(di, et, 5, i%2 == 0, true)
		if !ok {
			continue
		}
		d := &rd.ds[di]
		for _, o := range it.exam.Options {
			right := strings.Contains(it.exam.Answer, o.Label)
			var isFact bool
			if et == eCase {
				isFact = o.Text == d.Name
			} else {
				for _, x := range examField(d, et) {
					isFact = isFact || x == o.Text
				}
			}
			if right != isFact {
				t.Fatalf("%s: option %s %q marked %v", it.exam.Question, o.Label, o.Text, right)
			}
		}
		if et == eMultiSymptom && len(it.exam.Answer) < 2 {
			t.Fatalf("multi-answer question with answer %q", it.exam.Answer)
		}
	}
}

// FuzzCSVRecord checks that the hand-written CSV writer round-trips through
// encoding/csv for any cells.
func FuzzCSVRecord(f *testing.F) {
	f.Add("A 原发病\nB 出血部位", "他说\"没事\"", ",", true)
	f.Add("", "x", "\t", false)
	f.Fuzz(func(t *testing.T, a, b, c string, crlf bool) {
		cells := []string{a, b, c}
		for _, s := range cells {
			if strings.ContainsRune(s, '\r') || !utf8Valid(s) {
				t.Skip() // encoding/csv turns \r\n into \n inside quotes
			}
		}
		for _, delim := range []byte{',', '\t'} {
			data := csvRecord(cells, delim, crlf)
			r := csv.NewReader(bytes.NewReader(data))
			r.Comma = rune(delim)
			r.FieldsPerRecord = -1
			got, err := r.Read()
			if a == "" && b == "" && c == "" {
				continue
			}
			if err != nil {
				t.Fatalf("%q: %v", data, err)
			}
			if !reflect.DeepEqual(got, cells) {
				// encoding/csv trims nothing, but a leading space before a
				// quote is not a quoted field; the writer must quote it then
				t.Fatalf("%q read back as %q", cells, got)
			}
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestSeenFilter(t *testing.T) {
	f := newSeenFilter()
	for i := range 100000 {
		h := hashString(string(rune(0x4e00+i%20000)) + strings.Repeat("x", i%7) + string(rune(i)))
		if f.testAndSet(h) {
			t.Fatalf("item %d reported seen before it was added", i)
		}
		if !f.testAndSet(h) {
			t.Fatalf("item %d not seen after it was added", i)
		}
	}
}
