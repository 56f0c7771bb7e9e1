package clean_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// ingestSharedCorpus ingests the public samples next to the repository
// (../shared/corpus) with examples/shared-corpus/chimed.yaml into a
// temporary workspace — only the named sources, or all of them — and skips
// the test when the samples are absent.
func ingestSharedCorpus(t *testing.T, only ...string) workspace.Dir {
	t.Helper()
	if _, err := os.Stat(filepath.Join("..", "..", "shared", "corpus")); err != nil {
		t.Skipf("the public samples are not next to the repository: %v", err)
	}
	example, err := filepath.Abs(filepath.Join("..", "examples", "shared-corpus"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	var sources []ingest.Source
	for _, s := range cfg.Sources {
		if len(only) > 0 && !slices.Contains(only, s.Name) {
			continue
		}
		for j, p := range s.Paths {
			s.Paths[j] = filepath.Join(example, p)
		}
		sources = append(sources, s)
	}
	if len(sources) == 0 {
		t.Fatalf("none of %v is in %s/chimed.yaml", only, example)
	}
	ws := workspace.Dir(t.TempDir())
	if _, err := ingest.Run(context.Background(), ws, sources, ingest.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	return ws
}

// forEachValue calls fn with every text value of every normalized row of
// the workspace, kind by kind.
func forEachValue(t *testing.T, ws workspace.Dir, fn func(k schemas.Kind, source, field, value string)) {
	t.Helper()
	forEachValueOf[schemas.Text](t, ws, schemas.KindText, fn)
	forEachValueOf[schemas.QA](t, ws, schemas.KindQA, fn)
	forEachValueOf[schemas.Triple](t, ws, schemas.KindKG, fn)
	forEachValueOf[schemas.Dialogue](t, ws, schemas.KindDialogue, fn)
	forEachValueOf[schemas.PreferencePair](t, ws, schemas.KindPreference, fn)
	forEachValueOf[schemas.ExamQuestion](t, ws, schemas.KindExam, fn)
}

func forEachValueOf[T any, P interface {
	*T
	schemas.Record
}](t *testing.T, ws workspace.Dir, k schemas.Kind, fn func(k schemas.Kind, source, field, value string)) {
	for r, err := range schemas.ReadDir[T](ws.Normalized(k)) {
		if err != nil {
			t.Fatal(err)
		}
		p := P(&r)
		for _, f := range p.TextFields() {
			fn(k, p.RecordSource(), f.Name, *f.Value)
		}
	}
}

// TestNormalisersNeverCutOnSharedCorpus runs the default normalisers, one
// step at a time, over every text value of every input kind in the public
// samples, and checks each step's rewrite with rules of its own (not the
// normalisers' code):
//
//   - no step leaves a value ending inside a clause (a comma, enumeration
//     comma, semicolon or colon, or a conjunction such as "都", "和") where
//     its input did not end so;
//   - html, invisible, unicode, width and whitespace drop no Chinese
//     character (html may add one, decoding an entity);
//   - wrappers remove only marks like "<s>" and a short speaker word with
//     its colon at the start or end ("问：", "答：");
//   - signoffs remove only the end of the value from a sentence or clause
//     boundary on, text with a sign-off word in it and no advice words
//     (医院, 就医, 检查, 药 …) outside quotes and wishes ("祝您就诊顺利");
//   - pii replaces whole tokens: the text between placeholders is the
//     input's, and no masked span starts or ends inside a word.
func TestNormalisersNeverCutOnSharedCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests every public sample")
	}
	ws := ingestSharedCorpus(t)
	steps := map[schemas.Kind][]clean.NamedNormaliser{}
	for _, k := range schemas.Kinds {
		ns, err := clean.DefaultNormalisers(k)
		if err != nil {
			t.Fatal(err)
		}
		steps[k] = ns
	}
	values := map[schemas.Kind]int{}
	changed := map[string]int{}
	var bad []string
	forEachValue(t, ws, func(k schemas.Kind, source, field, v string) {
		values[k]++
		for _, n := range steps[k] {
			out := n.Normalise(field, v, clean.Tally{})
			if out != v {
				changed[n.Name]++
				if why := checkRewrite(n.Name, v, out); why != "" && len(bad) < 50 {
					bad = append(bad, fmt.Sprintf("%s %s.%s, step %s: %s\n  in:  %q\n  out: %q", k, source, field, n.Name, why, tail(v), tail(out)))
				}
			}
			v = out
		}
	})
	total := 0
	for _, k := range schemas.Kinds {
		total += values[k]
	}
	names := make([]string, 0, len(changed))
	for n := range changed {
		names = append(names, n)
	}
	sort.Strings(names)
	var rewrites []string
	for _, n := range names {
		rewrites = append(rewrites, fmt.Sprintf("%s %d", n, changed[n]))
	}
	t.Logf("%d text values checked (%v); values rewritten per step: %s", total, values, strings.Join(rewrites, ", "))
	if total < 100000 {
		t.Errorf("only %d values read; the samples hold over 100,000", total)
	}
	if changed["signoffs"] < 100 || changed["pii"] == 0 {
		t.Errorf("too few rewrites to have tested anything: %v", changed)
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// tail is the end of s, for messages.
func tail(s string) string {
	if i := len(s) - 150; i > 0 {
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		return "…" + s[i:]
	}
	return s
}

// checkRewrite returns why the rewrite of in into out by the step named
// step breaks the rules of TestNormalisersNeverCutOnSharedCorpus, or "".
func checkRewrite(step, in, out string) string {
	if endsInsideClause(out) && !endsInsideClause(in) {
		return "ends inside a clause"
	}
	switch step {
	case "html":
		if !isSubsequence(han(in), han(out)) {
			return "Chinese characters dropped"
		}
	case "invisible", "width", "whitespace":
		if han(in) != han(out) {
			return "Chinese characters changed"
		}
	case "unicode":
		// NFC maps a CJK compatibility ideograph (U+F900–U+FAFF) to its
		// unified twin: the same character, another code point.
		if utf8.RuneCountInString(han(in)) != utf8.RuneCountInString(han(out)) {
			return "Chinese characters dropped or added"
		}
	case "wrappers":
		bare := strings.TrimSpace(wrapperMark.ReplaceAllString(in, ""))
		i := strings.Index(bare, out)
		if i < 0 {
			return "not the input less its wrappers"
		}
		for _, part := range []string{bare[:i], bare[i+len(out):]} {
			if part != "" && !speakerLabel.MatchString(part) {
				return fmt.Sprintf("removed %q, not a speaker label", part)
			}
		}
	case "signoffs":
		var removed string
		switch base := strings.TrimSuffix(out, "。"); {
		case strings.HasPrefix(in, out):
			r, _ := utf8.DecodeLastRuneInString(out)
			if !strings.ContainsRune("。！!？?\n…~～.", r) {
				return "a sentence removed after no sentence end"
			}
			removed = in[len(out):]
		case base != out && strings.HasPrefix(in, base):
			removed = in[len(base):]
			if r, _ := utf8.DecodeRuneInString(removed); !strings.ContainsRune("，,；; ", r) {
				return "clauses removed after no clause separator"
			}
		default:
			return "not a prefix of the input"
		}
		outside := quoted.ReplaceAllString(removed, "")
		wishless := wish.ReplaceAllString(outside, "")
		if !signoffWord.MatchString(outside) {
			return fmt.Sprintf("removed %q, with no sign-off word", removed)
		}
		if w := adviceWord.FindString(wishless); w != "" {
			return fmt.Sprintf("removed %q, which holds %q", removed, w)
		}
	case "pii":
		return checkMasked(in, out)
	}
	return ""
}

var (
	wrapperMark  = regexp.MustCompile(`</?s>|<\|(?:im_start|im_end|endoftext)\|>|\[/?INST\]`)
	speakerLabel = regexp.MustCompile(`^\s*[\p{Han}A-Za-z]{1,9}\s*[:：]\s*$`)
	quoted       = regexp.MustCompile(`“[^”]*”|"[^"]*"`)
	signoffWord  = regexp.MustCompile(`祝|谢|希望|期望|参考|咨询|追问|提问|联系|帮助|帮到|协助|康复|客气|建议`)
	wish         = regexp.MustCompile(`祝[^，。！？!?]*`) // "祝您就诊顺利" names a visit but advises nothing
	adviceWord   = regexp.MustCompile(`医院|就医|就诊|医生|医师|检查|治疗|服用|药|复查|注意|饮食|休息`)
	placeholder  = regexp.MustCompile(`\[(?:EMAIL|URL|ID|BANKCARD|PHONE|QQ|WECHAT|IP|PASSPORT)\]`)
)

// endsInsideClause reports whether s, less trailing spaces, ends in clause
// punctuation or in a word that cannot end a sentence.
func endsInsideClause(s string) bool {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	r, _ := utf8.DecodeLastRuneInString(s)
	if strings.ContainsRune("，、,；;：:", r) {
		return true
	}
	for _, w := range []string{"都", "和", "或", "与", "及", "但", "而且", "并且", "以及", "或者", "如果", "因为", "所以", "但是"} {
		if strings.HasSuffix(s, w) {
			return true
		}
	}
	return false
}

// han is the Chinese characters of s, in order.
func han(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isSubsequence reports whether a's runes appear in b in order.
func isSubsequence(a, b string) bool {
	for _, r := range a {
		i := strings.IndexRune(b, r)
		if i < 0 {
			return false
		}
		b = b[i+utf8.RuneLen(r):]
	}
	return true
}

// checkMasked checks that out is in with whole tokens replaced by
// placeholders, and returns why not, or "".
func checkMasked(in, out string) string {
	locs := placeholder.FindAllStringIndex(out, -1)
	if locs == nil {
		return "changed, but no placeholder"
	}
	var pat strings.Builder
	pat.WriteString(`(?s)^`)
	prev := 0
	for _, l := range locs {
		pat.WriteString(regexp.QuoteMeta(out[prev:l[0]]) + `(.+?)`)
		prev = l[1]
	}
	pat.WriteString(regexp.QuoteMeta(out[prev:]) + `$`)
	m := regexp.MustCompile(pat.String()).FindStringSubmatchIndex(in)
	if m == nil {
		return "the text around the placeholders is not the input's"
	}
	for g := 1; 2*g < len(m); g++ {
		from, to := m[2*g], m[2*g+1]
		if alnumEnd(in[:from]) || alnumStart(in[to:]) {
			return fmt.Sprintf("masked %q inside a word", in[from:to])
		}
	}
	return ""
}

func alnumEnd(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func alnumStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// TestPIITruthOnSharedCorpus is the PII truth table (clean.PIITruthRows)
// on real text: 400 rows planted in sentences of the public samples' QA
// answers, questions, dialogue turns and plain text, chosen by a seeded
// generator from the sentences the masker leaves alone.
func TestPIITruthOnSharedCorpus(t *testing.T) {
	ws := ingestSharedCorpus(t, "huatuo26m-test", "medicalgpt-pretrain", "toyhom-csv", "covid-meddialog-json")
	seen := map[string]bool{}
	var carriers []string
	forEachValue(t, ws, func(_ schemas.Kind, _, _, v string) {
		for _, s := range strings.SplitAfter(v, "。") {
			s = strings.TrimSpace(s)
			if n := utf8.RuneCountInString(s); n < 8 || n > 80 || !strings.HasSuffix(s, "。") || seen[s] {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(s); r < utf8.RuneSelf {
				continue // a sentence starting with an ASCII letter or digit would run on from the phrase before it
			}
			seen[s] = true
			if clean.MaskPII(s) == s {
				carriers = append(carriers, s)
			}
		}
	})
	if len(carriers) < 1000 {
		t.Fatalf("only %d carrier sentences", len(carriers))
	}
	sort.Strings(carriers) // the rows depend on the samples' text, not on read order
	rows := clean.PIITruthRows(carriers, 20, 42)
	t.Logf("%d carrier sentences, %d rows", len(carriers), len(rows))
	if len(rows) < 300 {
		t.Fatalf("only %d rows", len(rows))
	}
	clean.CheckPIITruth(t, rows)
}
