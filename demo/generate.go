package demo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/schemas"
)

// Options control a demo run.
type Options struct {
	// Seed fixes every random choice: the same seed writes byte-identical files.
	Seed uint64
	// ScaleBytes grows the corpus towards roughly this many raw bytes with
	// the same shape and density of planted trouble; 0 (or anything under
	// the default size) writes the small default demo.
	ScaleBytes int64
	// Progress, when set, is called after each source is written.
	Progress func(source string, bytes int64)
}

// DefaultSeed is the seed `chimed demo` uses without --seed.
const DefaultSeed = 42

// defaultBytes is about what one unit of growth writes: the default demo
// minus the sources that do not grow (eval sets, KG) and most over-long
// lines (see plantCount). A --scale of more than three of it grows the demo.
const defaultBytes = 3328 << 10

// scaledBytes is what one unit of growth writes at --scale, whose records
// (prose.go) are about twice as long: --scale divides by it to get the
// growth factor, so `--scale 1GB` gives about 1 GB.
const scaledBytes = 7340 << 10

// Guard settings of the default scale (see Truth.Guarded).
const (
	guardJaccard = 0.6
	guardNGram   = 10
)

type pooled struct {
	it  item
	loc Loc
}

// generator writes one demo workspace.
type generator struct {
	ws      string
	opts    Options
	ds      []Disease
	rd      *renderer // the current source's renderer and random stream
	factor  int
	guarded bool
	near    *nearGuard
	contam  *ngramGuard
	exact   seenFilter // canonical texts seen, when not guarded
	truth   *Truth

	pools     map[schemas.Kind][]pooled // originals from earlier sources
	srcPool   []pooled                  // originals from the current source
	srcSeen   int
	evalQA    []pooled
	evalExam  []pooled
	nextQA    int
	nextExam  int
	piiNext   int
	noiseNext int
}

// Generate writes the demo workspace into ws: raw/…, chimed.yaml and
// demo-truth.json. It returns the truth it wrote.
func Generate(ws string, opts Options) (*Truth, error) {
	if err := os.MkdirAll(ws, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := atomicfile.Sweep(filepath.Join(ws, "raw")); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	g := &generator{ws: ws, opts: opts, ds: facts(), factor: 1, pools: map[schemas.Kind][]pooled{}}
	if opts.ScaleBytes > 3*defaultBytes {
		g.factor = max(2, int((opts.ScaleBytes+scaledBytes/2)/scaledBytes))
	}
	g.guarded = g.factor == 1
	g.contam = newNgramGuard(guardNGram)
	if g.guarded {
		g.near = newNearGuard(guardJaccard)
	} else {
		g.exact = newSeenFilter()
	}
	g.truth = &Truth{Seed: opts.Seed, ScaleBytes: opts.ScaleBytes, Guarded: g.guarded}
	if g.guarded {
		g.truth.GuardJaccard, g.truth.GuardNGram = guardJaccard, guardNGram
	}
	specs := g.sourceSpecs()
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "# The chimed demo workspace, written by `chimed demo --seed %d`: every source\n"+
		"# below is generated (no copied data) in the shape of a public corpus, with\n"+
		"# trouble planted on purpose; demo-truth.json lists what and where.\n"+
		"version: 1\nseed: %d\nsources:\n", opts.Seed, opts.Seed)
	for _, s := range specs {
		st, err := g.runSource(s)
		if err != nil {
			return nil, err
		}
		g.truth.Sources = append(g.truth.Sources, st)
		yaml.WriteString(s.yamlEntry())
		if opts.Progress != nil {
			var n int64
			for _, f := range st.Files {
				n += f.Bytes
			}
			opts.Progress(s.name, n)
		}
	}
	if err := atomicfile.WriteFile(filepath.Join(ws, "chimed.yaml"), []byte(yaml.String())); err != nil {
		return nil, fmt.Errorf("demo: write chimed.yaml: %w", err)
	}
	if err := writeTruth(filepath.Join(ws, TruthFile), g.truth); err != nil {
		return nil, fmt.Errorf("demo: write %s: %w", TruthFile, err)
	}
	return g.truth, nil
}

// writeTruth streams the truth as JSON, one planted record a line, so a
// big --scale run never holds a second copy of it as one JSON document.
func writeTruth(path string, t *Truth) error {
	head := *t
	head.Planted = nil
	data, err := json.MarshalIndent(&head, "", " ")
	if err != nil {
		return err
	}
	cut := bytes.LastIndex(data, []byte(`"planted": null`))
	if cut < 0 {
		return fmt.Errorf("unexpected truth encoding")
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	w.Write(data[:cut])
	w.WriteString("\"planted\": [")
	for i := range t.Planted {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n  ")
		w.Write(mustJSON(&t.Planted[i]))
	}
	w.WriteString("\n ]\n}\n")
	if err := w.Flush(); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// runSource writes one source: natural records with planted ones at
// scheduled rows.
func (g *generator) runSource(s *sourceSpec) (SourceTruth, error) {
	g.rd = &renderer{r: newRNG(g.opts.Seed, hashString(s.name)), ds: g.ds, scaled: g.factor > 1 && !s.eval}
	g.srcPool, g.srcSeen = nil, 0
	sk, err := s.open(g)
	if err != nil {
		return SourceTruth{}, err
	}
	scale := g.factor
	if s.fixed {
		scale = 1
	}
	var listed []item
	total := s.base * scale
	planted := 0
	for _, p := range s.plant {
		planted += plantCount(p, scale)
	}
	if s.list != nil {
		listed = s.list(g)
		total = len(listed) + planted
	}
	acts := g.schedule(s, total, scale)
	next := 0
	for i := 0; i < total; i++ {
		if a, ok := acts[i]; ok {
			if err := g.plantOne(s, sk, a, listed); err != nil {
				return SourceTruth{}, err
			}
			continue
		}
		var it item
		var ok bool
		if listed != nil {
			it = listed[next]
			next++
		} else if it, ok = g.natural(s); !ok {
			continue
		}
		if err := g.putNatural(s, sk, &it); err != nil {
			return SourceTruth{}, err
		}
	}
	files, err := sk.close()
	if err != nil {
		return SourceTruth{}, err
	}
	if !s.eval {
		g.pools[s.kind] = append(g.pools[s.kind], g.srcPool...)
	}
	st := SourceTruth{Name: s.name, Kind: string(s.kind), Role: "train", Preset: s.preset, Files: files, Note: s.note}
	if s.eval {
		st.Role = "eval"
	}
	for _, f := range files {
		if !f.Lookup {
			st.Records += f.Records
			st.Broken += f.Broken
		}
	}
	return st, nil
}

// plantCount is how many records of p a source gets when grown scale
// times: the same density for everything but the over-long lines, which
// grow slower so they do not become a third of a big corpus's bytes.
func plantCount(p plant, scale int) int {
	switch p.act {
	case actLong, actUnderCap, actTooLarge:
		return p.n * max(1, scale/16)
	}
	return p.n * scale
}

// schedule places the source's planted records at random rows; copies of
// the source's own records go after its first quarter, so originals exist.
func (g *generator) schedule(s *sourceSpec, total, scale int) map[int]action {
	r := g.rd.r
	acts := map[int]action{}
	for _, p := range s.plant {
		lo := 0
		switch p.act {
		case actExactSame, actNearSame:
			lo = total / 4
		case actBrokenEncoding:
			// past the first 64 KiB that encoding sniffers read: a bad byte
			// there would (reasonably) make the whole file look like GBK
			lo = total / 2
		}
		for range plantCount(p, scale) {
			pos := lo + r.IntN(total-lo)
			for range total - lo {
				if _, taken := acts[pos]; !taken {
					break
				}
				pos = lo + (pos-lo+1)%(total-lo)
			}
			acts[pos] = p.act
		}
	}
	return acts
}

// natural renders a record that keeps the guarantees of Truth.Guarded.
func (g *generator) natural(s *sourceSpec) (item, bool) {
	for range 60 {
		it, ok := s.make(g.rd, g.rd.r.IntN(len(g.ds)))
		if !ok {
			continue
		}
		text := it.canon()
		if g.guarded {
			if (!s.eval && g.contam.hits(text)) || g.near.similar(s.kind, text) {
				continue
			}
			g.near.add(s.kind, text)
		} else if g.exact.testAndSet(hashString(string(s.kind) + "\x00" + text)) {
			continue // big scales only keep exact repeats out
		}
		return it, true
	}
	return item{}, false
}

func (g *generator) putNatural(s *sourceSpec, sk sink, it *item) error {
	loc, err := sk.put(it)
	if err != nil {
		return err
	}
	loc.Source = s.name
	switch {
	case s.eval && s.kind == schemas.KindQA:
		g.evalQA = append(g.evalQA, pooled{*it, loc})
		g.contam.add(it.question())
	case s.eval:
		g.evalExam = append(g.evalExam, pooled{*it, loc})
		g.contam.add(it.exam.Question)
	default: // reservoir sample of originals for duplicates
		const poolSize = 64
		g.srcSeen++
		if len(g.srcPool) < poolSize {
			g.srcPool = append(g.srcPool, pooled{*it, loc})
		} else if j := g.rd.r.IntN(g.srcSeen); j < poolSize {
			g.srcPool[j] = pooled{*it, loc}
		}
	}
	return nil
}

func (g *generator) plant(p Planted) { g.truth.Planted = append(g.truth.Planted, p) }

// takeOwn removes and returns an original from the current source.
func (g *generator) takeOwn() (pooled, bool) {
	if len(g.srcPool) == 0 {
		return pooled{}, false
	}
	i := g.rd.r.IntN(len(g.srcPool))
	p := g.srcPool[i]
	g.srcPool = append(g.srcPool[:i], g.srcPool[i+1:]...)
	return p, true
}

// takeCross removes and returns an original of kind from an earlier source.
func (g *generator) takeCross(kind schemas.Kind) (pooled, bool) {
	pool := g.pools[kind]
	if len(pool) == 0 {
		return pooled{}, false
	}
	i := g.rd.r.IntN(len(pool))
	p := pool[i]
	g.pools[kind] = append(pool[:i], pool[i+1:]...)
	return p, true
}

var classOf = map[action]ErrorClass{
	actBrokenJSON: ClassJSON, actBrokenEncoding: ClassEncoding, actMissing: ClassMissing, actFields: ClassFields,
}

// plantOne writes one planted record (or two, for a near-distinct pair).
// When a copy has no original to copy, a natural record takes its row.
func (g *generator) plantOne(s *sourceSpec, sk sink, a action, listed []item) error {
	r := g.rd.r
	anyItem := func() item {
		if listed != nil {
			return listed[r.IntN(len(listed))]
		}
		it, _ := s.make(g.rd, r.IntN(len(g.ds)))
		return it
	}
	put := func(it *item) (Loc, error) {
		loc, err := sk.put(it)
		loc.Source = s.name
		return loc, err
	}
	fallback := func() error {
		if listed != nil {
			return nil
		}
		it, ok := g.natural(s)
		if !ok {
			return nil
		}
		return g.putNatural(s, sk, &it)
	}
	switch a {
	case actBrokenJSON, actBrokenEncoding, actMissing, actFields, actTooLarge, actUnderCap, actLong, actBareQuote:
		return g.plantMalformed(s, sk, a, anyItem, put)
	case actPII, actDecoy, actNoise:
		return g.plantMarked(s, a, put)
	case actExactSame, actExactCross:
		orig, ok := g.takeOwn()
		if a == actExactCross {
			orig, ok = g.takeCross(s.kind)
		}
		if !ok {
			return fallback()
		}
		it := orig.it
		it.system = ""
		loc, err := put(&it)
		if err != nil {
			return err
		}
		g.plant(Planted{What: ExactDup, Loc: loc, Expect: ExpectExactDup, Of: &orig.loc, Needle: it.needle()})
	case actNearSame, actNearCross:
		orig, ok := g.takeOwn()
		if a == actNearCross {
			orig, ok = g.takeCross(s.kind)
		}
		if !ok {
			return fallback()
		}
		it, j, ok := g.perturb(orig.it)
		if !ok {
			return fallback()
		}
		loc, err := put(&it)
		if err != nil {
			return err
		}
		g.plant(Planted{What: NearDup, Loc: loc, Expect: ExpectNearDup, Of: &orig.loc, Jaccard: round3(j)})
	case actNearDistinct:
		return g.siblings(s, sk, fallback)
	case actContamQA:
		return g.contaminateQA(s, put)
	case actContamExam:
		return g.contaminateExam(s, put, fallback)
	}
	return nil
}

// plantMalformed writes a record ingest must quarantine or read despite
// its shape: broken JSON or encoding, a missing field, an oversized or
// nearly oversized line, a very long record, a bare quote in a CSV cell.
func (g *generator) plantMalformed(s *sourceSpec, sk sink, a action, anyItem func() item, put func(*item) (Loc, error)) error {
	r := g.rd.r
	switch a {
	case actBrokenJSON, actBrokenEncoding, actMissing, actFields:
		it := anyItem()
		loc, needle, ok, err := sk.putBroken(&it, classOf[a], r)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("demo: source %s cannot hold a %s record (a bug in its spec)", s.name, classOf[a])
		}
		loc.Source = s.name
		g.plant(Planted{What: Broken, Loc: loc, Expect: ExpectQuarantine, Class: classOf[a], Needle: needle})
	case actTooLarge:
		text := g.longText(capBytes + 40<<10)
		loc, err := sk.putRaw([]byte(text+"\n"), true)
		if err != nil {
			return err
		}
		loc.Source = s.name
		g.plant(Planted{What: Broken, Loc: loc, Expect: ExpectQuarantine, Class: ClassTooLarge, Needle: firstRunes(text, 16),
			Note: fmt.Sprintf("a %d-byte line over the source's max_record_bytes of %d", len(text)+1, capBytes)})
	case actUnderCap:
		text := g.longText(capBytes - 56<<10)
		loc, err := sk.putRaw([]byte(text+"\n"), false)
		if err != nil {
			return err
		}
		loc.Source = s.name
		g.plant(Planted{What: Quirk, Loc: loc, Expect: ExpectIngest, Needle: firstRunes(text, 16),
			Note: fmt.Sprintf("a %d-byte line just under the source's max_record_bytes", len(text)+1)})
	case actLong:
		it := anyItem()
		text := g.longText(longRecordBytes)
		if s.kind == schemas.KindText {
			it.text = text
		} else {
			it.answer = text
		}
		loc, err := put(&it)
		if err != nil {
			return err
		}
		g.plant(Planted{What: LongRecord, Loc: loc, Expect: ExpectIngest, Needle: firstRunes(text, 16),
			Note: fmt.Sprintf("one record of over %d bytes on one line", longRecordBytes)})
	case actBareQuote:
		it, _ := s.make(g.rd, r.IntN(len(g.ds)))
		it.ask = strings.NewReplacer(",", "，", "\n", "").Replace(it.ask) + `朋友说"没事"就没去医院。`
		it.answer = strings.NewReplacer(",", "，", "\n", "").Replace(it.answer)
		toyhomTurns(&it)
		loc, err := sk.putRaw([]byte(strings.Join([]string{it.dept, it.title, it.ask, it.answer}, ",")+"\n"), false)
		if err != nil {
			return err
		}
		loc.Source = s.name
		g.plant(Planted{What: Quirk, Loc: loc, Expect: ExpectIngest, Needle: `"没事"`,
			Note: "bare double quotes inside an unquoted CSV cell: read with lazy quotes, not quarantined"})
	}
	return nil
}

// plantMarked writes a natural record carrying what clean must mask,
// keep or normalise: a PII value, a decoy that only looks like one, or
// markup noise.
func (g *generator) plantMarked(s *sourceSpec, a action, put func(*item) (Loc, error)) error {
	r := g.rd.r
	switch a {
	case actPII:
		it, ok := g.natural(s)
		if !ok {
			return nil
		}
		p := newPII(r, piiTypes[g.piiNext%len(piiTypes)])
		g.piiNext++
		withPhrase(&it, p.Phrase)
		loc, err := put(&it)
		if err != nil {
			return err
		}
		g.plant(Planted{What: PIIValue, Loc: loc, Expect: ExpectMask, Needle: p.Value,
			PII: &PII{Type: p.Type, Value: p.Value, Placeholder: Placeholders[p.Type]}})
	case actDecoy:
		it, ok := g.natural(s)
		if !ok {
			return nil
		}
		d := newDecoy(r)
		withPhrase(&it, d.Phrase)
		loc, err := put(&it)
		if err != nil {
			return err
		}
		g.plant(Planted{What: PIIDecoy, Loc: loc, Expect: ExpectKeep, Needle: d.Value, Note: d.Note + " — must not be masked"})
	case actNoise:
		it, ok := g.natural(s)
		if !ok {
			return nil
		}
		n := noises[g.noiseNext%len(noises)]
		g.noiseNext++
		withNoise(&it, n.insert)
		loc, err := put(&it)
		if err != nil {
			return err
		}
		g.plant(Planted{What: Noise, Loc: loc, Expect: ExpectNormalize, Needle: n.needle, Note: n.note})
	}
	return nil
}

// noises are the kinds of markup and odd characters planted for clean's
// normalisation; insert goes at the start of the answer or first turn.
var noises = []struct{ insert, needle, note string }{
	{"医生常说&ldquo;三分治七分养&rdquo;。", "&ldquo;", "HTML entities &ldquo; &rdquo;"},
	{"您好。<br>", "<br>", "an HTML <br> tag"},
	{"您好，\u3000\u3000", "\u3000\u3000", "ideographic spaces U+3000"},
	{"您\u200b好，", "\u200b", "a zero-width space inside a word"},
	{"一般每次１０ｍｇ，", "１０ｍｇ", "full-width digits and letters"},
}

// withNoise puts s at the start of the record's answer (or first turn).
func withNoise(it *item, s string) {
	switch {
	case it.kind == schemas.KindDialogue && !it.consult:
		it.turns[1].Content = s + it.turns[1].Content
	case it.kind == schemas.KindPreference:
		it.chosen = s + it.chosen
	case it.kind == schemas.KindText:
		it.text = s + it.text
	default:
		it.answer = s + it.answer
		if it.consult {
			toyhomTurns(it)
		}
	}
}

func round3(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }

// withPhrase splices a patient's sentence into the record's user text.
func withPhrase(it *item, phrase string) {
	switch {
	case it.consult:
		it.ask += phrase
		toyhomTurns(it)
	case it.kind == schemas.KindQA:
		if it.ask != "" {
			it.ask += phrase
		} else {
			it.title += phrase
		}
	case it.kind == schemas.KindDialogue:
		it.turns[0].Content += phrase
	case it.kind == schemas.KindPreference:
		it.prompt += phrase
	default:
		it.text += phrase
	}
}

// longText concatenates fresh encyclopedia paragraphs into one line of at
// least n bytes.
func (g *generator) longText(n int) string {
	var b strings.Builder
	for b.Len() < n {
		p := g.rd.text(g.rd.r.IntN(len(g.ds)), false).text
		if !g.contam.hits(p) {
			b.WriteString(p)
		}
	}
	return b.String()
}

// editChars are what perturb substitutes and inserts.
const editChars = "的了是在有不这人中来上大为和地到以说时要就出会可也对生能而子得于着下自之过发后作里用道行所然家种事成方多经么去法"

// perturb makes a near duplicate of it: a few characters substituted,
// inserted or deleted and punctuation changed, until the character 5-gram
// Jaccard with the original falls in [0.8, 0.95]. The first edit is always
// a substituted Chinese character, so no normalisation can turn the copy
// back into an exact duplicate.
func (g *generator) perturb(orig item) (item, float64, bool) {
	r := g.rd.r
	base := orig.canon()
	chars := []rune(editChars)
	for range 20 {
		it := orig
		it.turns = append([]schemas.Turn(nil), orig.turns...)
		field := &it.answer
		switch {
		case it.consult:
		case it.kind == schemas.KindText:
			field = &it.text
		case it.kind == schemas.KindPreference:
			field = &it.chosen
		case it.kind == schemas.KindDialogue:
			longest := 0
			for i, t := range it.turns {
				if len(t.Content) > len(it.turns[longest].Content) {
					longest = i
				}
			}
			field = &it.turns[longest].Content
		}
		target := 0.82 + r.Float64()*0.11
		for edits := 0; edits < 60; edits++ {
			rs := []rune(*field)
			if len(rs) < 8 {
				break
			}
			i := 1 + r.IntN(len(rs)-2)
			switch op := r.IntN(4); {
			case edits == 0 || op == 0:
				for k := 0; k < len(rs) && (rs[i] < 0x4e00 || rs[i] > 0x9fff); k++ {
					i = 1 + (i % (len(rs) - 2))
				}
				c := chars[r.IntN(len(chars))]
				if c == rs[i] {
					c = chars[(r.IntN(len(chars)-1)+1+strings.IndexRune(editChars, c))%len(chars)]
				}
				rs[i] = c
			case op == 1:
				rs = append(rs[:i], append([]rune{chars[r.IntN(len(chars))]}, rs[i:]...)...)
			case op == 2:
				rs = append(rs[:i], rs[i+1:]...)
			default:
				s := string(rs)
				for _, pair := range [][2]string{{"，", ","}, {"。", "！"}, {"、", "，"}, {"？", "?"}} {
					if strings.Contains(s, pair[0]) {
						s = strings.Replace(s, pair[0], pair[1], 1)
						break
					}
				}
				rs = []rune(s)
			}
			*field = string(rs)
			if it.consult {
				toyhomTurns(&it)
			}
			j := Jaccard5(base, it.canon())
			if j <= target {
				if j >= 0.8 && it.canon() != base {
					return it, j, true
				}
				break
			}
		}
	}
	return item{}, 0, false
}

// siblings writes a near-distinct pair: the same question and answer
// templates filled in for two diseases of one department ("冠心病挂什么科？"
// and "高血压挂什么科？"), which share most of their words but are
// different records that a near-dedup must keep.
func (g *generator) siblings(s *sourceSpec, sk sink, fallback func() error) error {
	r := g.rd.r
	if s.kind != schemas.KindQA {
		return fmt.Errorf("demo: source %s: near-distinct pairs are made for qa sources only", s.name)
	}
	note := "same templates, another disease of the same department: not a duplicate"
	for range 60 {
		d1 := r.IntN(len(g.ds))
		var peers []int
		for i := range g.ds {
			if i != d1 && g.ds[i].Dept == g.ds[d1].Dept {
				peers = append(peers, i)
			}
		}
		if len(peers) == 0 {
			continue
		}
		d2 := pick(r, peers)
		choice := [4]int{r.IntN(len(titleTemplates[qDept])), r.IntN(len(openers)), r.IntN(len(coreTemplates[qDept])), r.IntN(len(closings))}
		a, b := g.rd.templatedQA(d1, qDept, choice), g.rd.templatedQA(d2, qDept, choice)
		ta, tb := a.canon(), b.canon()
		j := Jaccard5(ta, tb)
		if j < 0.2 || j >= 0.72 {
			continue
		}
		if g.guarded {
			if g.contam.hits(ta) || g.contam.hits(tb) || g.near.similar(s.kind, ta) || g.near.similar(s.kind, tb) {
				continue
			}
			g.near.add(s.kind, ta)
			g.near.add(s.kind, tb)
		}
		la, err := sk.put(&a)
		if err != nil {
			return err
		}
		lb, err := sk.put(&b)
		if err != nil {
			return err
		}
		la.Source, lb.Source = s.name, s.name
		g.plant(Planted{What: NearDistinct, Loc: lb, Expect: ExpectKeep, Of: &la, Jaccard: round3(j), Note: note})
		return nil
	}
	return fallback()
}

var questionWraps = []string{"%s", "医生你好，%s", "%s谢谢！", "想问一下：%s麻烦解答。"}

// contaminateQA writes a training record holding a held-out QA question.
func (g *generator) contaminateQA(s *sourceSpec, put func(*item) (Loc, error)) error {
	if len(g.evalQA) == 0 {
		return nil
	}
	r := g.rd.r
	ev := g.evalQA[g.nextQA%len(g.evalQA)]
	g.nextQA++
	q := ev.it.question()
	wrapped := fmt.Sprintf(pick(r, questionWraps), q)
	var it item
	switch s.kind {
	case schemas.KindQA:
		it = g.rd.qa(ev.it.disease, ev.it.qtype, false)
		it.title, it.ask = wrapped, ""
	case schemas.KindText:
		it = item{kind: schemas.KindText, text: "问：" + q + "答：" + g.rd.answer(&g.ds[ev.it.disease], ev.it.qtype)}
	case schemas.KindDialogue:
		it = g.rd.dialogue(ev.it.disease)
		it.turns[0].Content = wrapped
	case schemas.KindPreference:
		it = g.rd.preference(ev.it.disease, ev.it.qtype)
		it.prompt = wrapped
	default:
		return fmt.Errorf("demo: source %s (%s) cannot hold a QA contamination", s.name, s.kind)
	}
	loc, err := put(&it)
	if err != nil {
		return err
	}
	g.plant(Planted{What: Contamination, Loc: loc, Expect: ExpectContaminated, Of: &ev.loc, Needle: q,
		Note: "a held-out QA question inside a training record"})
	return nil
}

// contaminateExam writes a training record holding a held-out exam question.
func (g *generator) contaminateExam(s *sourceSpec, put func(*item) (Loc, error), fallback func() error) error {
	r := g.rd.r
	var ev pooled
	found := false
	for range len(g.evalExam) {
		e := g.evalExam[g.nextExam%len(g.evalExam)]
		g.nextExam++
		if len([]rune(e.it.exam.Question)) >= 16 && (s.preset != "cmmlu" || len(e.it.exam.Answer) == 1) {
			ev, found = e, true
			break
		}
	}
	if !found {
		return fallback()
	}
	eq := ev.it.exam
	var it item
	switch s.kind {
	case schemas.KindExam:
		n := len(eq.Options)
		if s.preset == "cmmlu" {
			n = 4
		}
		it = item{kind: schemas.KindExam, disease: ev.it.disease, exam: shuffleOptions(r, eq, n)}
		if s.preset != "cmmlu" {
			it.exam.Explanation = "本题考查" + g.ds[ev.it.disease].Name + "的相关知识。" + eq.Explanation
		} else {
			it.exam.Explanation = ""
		}
	case schemas.KindQA:
		it = item{kind: schemas.KindQA, disease: ev.it.disease, title: "请解答这道选择题：" + eq.Question + "\n" + optionLines(&eq, "\n"),
			answer: "答案是" + eq.Answer + "。" + eq.Explanation}
	case schemas.KindText:
		it = item{kind: schemas.KindText, text: "例题：" + eq.Question + "。" + eq.Explanation}
	default:
		return fmt.Errorf("demo: source %s (%s) cannot hold an exam contamination", s.name, s.kind)
	}
	loc, err := put(&it)
	if err != nil {
		return err
	}
	g.plant(Planted{What: Contamination, Loc: loc, Expect: ExpectContaminated, Of: &ev.loc, Needle: eq.Question,
		Note: "a held-out exam question inside a training record (options reordered where it is an exam row)"})
	return nil
}

// shuffleOptions returns q with its options in another order (keeping the
// correct ones and enough wrong ones for n options) and the answer relabelled.
func shuffleOptions(r *rng, q schemas.ExamQuestion, n int) schemas.ExamQuestion {
	var right, wrong []string
	for _, o := range q.Options {
		if strings.Contains(q.Answer, o.Label) {
			right = append(right, o.Text)
		} else {
			wrong = append(wrong, o.Text)
		}
	}
	texts := append(right, wrong[:n-len(right)]...)
	out := schemas.ExamQuestion{Question: q.Question}
	var ans []byte
	perm := r.Perm(n)
	if n > 1 && perm[0] == 0 { // make sure the order changes
		perm[0], perm[1] = perm[1], perm[0]
	}
	for i, p := range perm {
		label := string(rune('A' + i))
		out.Options = append(out.Options, schemas.Option{Label: label, Text: texts[p]})
		if p < len(right) {
			ans = append(ans, label[0])
		}
	}
	out.Answer = string(ans)
	return out
}
