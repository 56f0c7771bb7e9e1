package stats

import (
	"cmp"
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/chimed/chimed/internal/ngram"
	"github.com/chimed/chimed/schemas"
)

// Perplexity under a small reference model, as CCNet (KenLM) and
// data-juicer report it: a character 4-gram model with modified
// Kneser–Ney smoothing (internal/ngram) is trained on a seeded sample of
// this workspace's own clean/ rows and scores every other kept row, so a
// reader sees the gibberish and boilerplate tail of each kind.

// pplOrder is the reference model's n.
const pplOrder = 4

// pplStride makes one row in pplStride a training candidate (by seeded id
// hash), so at least the rest are held out and scored whatever the size
// of the corpus.
const pplStride = 4

// pplSeed salts the id hash that picks training rows, so the sample does
// not coincide with the other id-hash samples of the page.
const pplSeed = "perplexity-reference-model\x00"

// pplExtremeMin is the fewest characters a row needs to be shown among
// the highest and lowest perplexities: a shorter row's score is mostly
// its start and end.
const pplExtremeMin = 20

// pplEdges are the lower edges of the perplexity bins: one apart at the
// bottom (templated text scores 1–5), then roughly doubling, so fluent
// text (tens) and gibberish (thousands) both show.
var pplEdges = []int64{1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000}

// pplPercentiles are the percentiles the report lists per kind.
var pplPercentiles = []float64{0.10, 0.50, 0.90, 0.99}

// pplQuantileRows bounds the perplexities kept per kind for percentiles:
// up to it they are exact; past it they come from the rows with the
// smallest id hashes, a uniform sample of this size (16 bytes a row).
const pplQuantileRows = 100_000

// PerplexityStats is the perplexity of kept rows under a reference model
// trained on held-in rows of the same corpus.
type PerplexityStats struct {
	// Model says what scored the rows, in words, for the page.
	Model string `json:"model"`
	Order int    `json:"order"`
	// TrainRows and TrainChars are the held-in sample the model learnt
	// from; CharCap bounds it (memory grows with it) and Stride makes one
	// row in Stride a candidate.
	TrainRows  int64 `json:"train_rows"`
	TrainChars int64 `json:"train_chars"`
	CharCap    int64 `json:"train_char_cap"`
	Stride     int   `json:"train_stride"`
	// Kinds has the held-out distribution of each kind of clean/ row.
	Kinds []KindPerplexity `json:"kinds"`
	// Removed has the perplexity of removed/ rows (none trained the
	// model) per removal reason, most rows first: whether what clean
	// removed is the high-perplexity tail.
	Removed []ReasonPerplexity `json:"removed"`
}

// ReasonPerplexity is the perplexity of the rows removed for one reason.
type ReasonPerplexity struct {
	Reason string `json:"reason"`
	Scored int64  `json:"scored"`
	// Unreadable rows have a record that does not decode as their kind;
	// triples are not scored at all and not counted.
	Unreadable       int64       `json:"unreadable"`
	Mean             float64     `json:"mean"`
	Max              float64     `json:"max"`
	Percentiles      []NameValue `json:"percentiles"`
	PercentileSample int64       `json:"percentile_sample"`
}

// KindPerplexity is the held-out perplexity of one kind of clean/ row.
type KindPerplexity struct {
	Kind string `json:"kind"`
	// Scored rows are held out; HeldIn rows trained the model and are not
	// scored (their score would flatter it).
	Scored int64 `json:"scored"`
	HeldIn int64 `json:"held_in"`
	// Perplexity is per character, the end of the row counted as one,
	// rounded down to a whole number for the bins.
	Perplexity Histogram `json:"perplexity"`
	// Mean and Percentiles are of the exact perplexities; Percentiles are
	// exact up to pplQuantileRows scored rows and from a uniform sample of
	// that many past it (PercentileSample says how many rows they are of).
	Mean             float64     `json:"mean"`
	Max              float64     `json:"max"`
	Percentiles      []NameValue `json:"percentiles"`
	PercentileSample int64       `json:"percentile_sample"`
	// Highest and Lowest are the rows of at least pplExtremeMin characters
	// with the highest and lowest perplexity, PII-masked and cut.
	Highest []Sample `json:"highest"`
	Lowest  []Sample `json:"lowest"`
}

// heldRow is one training candidate kept in the sample.
type heldRow struct {
	hash  uint64
	key   string // kind and id
	text  string
	chars int64
}

// heldHeap is a max-heap by hash: the candidate with the largest hash is
// the first to go when the sample passes its character cap.
type heldHeap []heldRow

func (h heldHeap) Len() int { return len(h) }
func (h heldHeap) Less(i, j int) bool {
	return cmp.Or(cmp.Compare(h[j].hash, h[i].hash), cmp.Compare(h[j].key, h[i].key)) < 0
}
func (h heldHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)   { *h = append(*h, x.(heldRow)) }
func (h *heldHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// pplKey names a row across kinds.
func pplKey(k schemas.Kind, id string) string { return string(k) + "\x00" + id }

// rowText is the text a row is scored on: its text fields (a QA row's
// category label left out), one per line.
func rowText(r schemas.Record, b *strings.Builder) string {
	b.Reset()
	for _, f := range r.TextFields() {
		if f.Name == "category" || *f.Value == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(*f.Value)
	}
	return b.String()
}

// pplScored reports whether kind k is scored: a triple's few words are
// not text a language model judges.
func pplScored(k schemas.Kind) bool { return k != schemas.KindKG }

// trainReference reads clean/ once and trains the reference model on the
// training candidates with the smallest seeded id hashes that fit in
// capChars characters: a uniform sample of the whole corpus, bounded in
// memory whatever its order or size. It returns nil and no error when no
// row was a candidate (a corpus of a handful of rows).
func (s *corpusScan) trainReference(capChars int64) (*ngram.Model, map[string]bool, error) {
	var sample heldHeap
	var chars int64
	var b strings.Builder
	for _, k := range schemas.Kinds {
		if !pplScored(k) {
			continue
		}
		dir := s.c.ws.Clean(k)
		err := forEachRecord(dir, k, func(r schemas.Record) error {
			key := pplKey(k, r.RecordID())
			h := hashID(pplSeed + key)
			if h%pplStride != 0 {
				return nil
			}
			text := rowText(r, &b)
			row := heldRow{hash: h, key: key, text: text, chars: runeLen(text)}
			heap.Push(&sample, row)
			chars += row.chars
			for chars > capChars && len(sample) > 0 {
				chars -= heap.Pop(&sample).(heldRow).chars
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("stats: perplexity sample of %s: %w", s.c.rel(dir), err)
		}
	}
	if len(sample) == 0 {
		return nil, nil, nil
	}
	tr, err := ngram.NewTrainer(pplOrder)
	if err != nil {
		return nil, nil, fmt.Errorf("stats: %w", err)
	}
	slices.SortFunc(sample, func(a, b heldRow) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.key, b.key)) })
	held := make(map[string]bool, len(sample))
	for _, row := range sample {
		tr.Add(row.text)
		held[row.key] = true
	}
	return tr.Model(), held, nil
}

// pplAcc scores one kind's held-out rows.
type pplAcc struct {
	kp      KindPerplexity
	summary pplSummary
	high    []Sample // highest first
	low     []Sample // lowest first
	builder strings.Builder
}

func newPPLAcc(k schemas.Kind) *pplAcc {
	return &pplAcc{kp: KindPerplexity{Kind: string(k), Perplexity: *newHistogram("perplexity", "per char", pplEdges)}}
}

// add scores row r unless it trained the model.
func (a *pplAcc) add(m *ngram.Model, held map[string]bool, k schemas.Kind, r schemas.Record) {
	if held[pplKey(k, r.RecordID())] {
		a.kp.HeldIn++
		return
	}
	text := rowText(r, &a.builder)
	p := m.Perplexity(text)
	a.kp.Scored++
	a.kp.Perplexity.Add(int64(min(p, math.MaxInt32)))
	a.summary.add(r.RecordID(), p)
	if runeLen(text) < pplExtremeMin {
		return
	}
	higher := func(x, y Sample) int { return cmp.Or(cmp.Compare(y.Perplexity, x.Perplexity), cmp.Compare(x.ID, y.ID)) }
	lower := func(x, y Sample) int { return cmp.Or(cmp.Compare(x.Perplexity, y.Perplexity), cmp.Compare(x.ID, y.ID)) }
	a.high = keepTop(a.high, r, p, higher)
	a.low = keepTop(a.low, r, p, lower)
}

// keepTop keeps the samplesPer rows first in order by; the sample (and its
// PII masking) is built only for a row that makes the list.
func keepTop(list []Sample, r schemas.Record, p float64, by func(a, b Sample) int) []Sample {
	if len(list) >= samplesPer && by(Sample{ID: r.RecordID(), Perplexity: p}, list[len(list)-1]) >= 0 {
		return list
	}
	s := recordSample(r, true)
	s.Perplexity = p
	i, _ := slices.BinarySearchFunc(list, *s, by)
	list = slices.Insert(list, i, *s)
	return list[:min(len(list), samplesPer)]
}

// result finishes the kind's statistics.
func (a *pplAcc) result() KindPerplexity {
	kp := a.kp
	kp.Mean, kp.Max, kp.Percentiles, kp.PercentileSample = a.summary.result()
	kp.Highest, kp.Lowest = rounded(a.high), rounded(a.low)
	return kp
}

// pplSummary gathers the mean, maximum and percentiles of perplexities
// in bounded memory.
type pplSummary struct {
	n        int64
	sum, max float64
	values   valueHeap // the pplQuantileRows smallest id hashes
}

func (s *pplSummary) add(id string, p float64) {
	s.n++
	s.sum += p
	s.max = max(s.max, p)
	if h := hashID(id); len(s.values) < pplQuantileRows {
		heap.Push(&s.values, hashedValue{h, p})
	} else if h < s.values[0].hash {
		s.values[0] = hashedValue{h, p}
		heap.Fix(&s.values, 0)
	}
}

// result is the mean, the maximum and pplPercentiles, to one decimal, and
// how many values the percentiles are of.
func (s *pplSummary) result() (mean, maxValue float64, percentiles []NameValue, of int64) {
	percentiles = []NameValue{}
	if s.n == 0 {
		return 0, 0, percentiles, 0
	}
	vs := make([]float64, len(s.values))
	for i, v := range s.values {
		vs[i] = v.value
	}
	slices.Sort(vs)
	for _, q := range pplPercentiles {
		percentiles = append(percentiles, NameValue{fmt.Sprintf("p%.0f", q*100), round1(quantile(vs, q))})
	}
	return round1(s.sum / float64(s.n)), round1(s.max), percentiles, int64(len(vs))
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// modelWords describes the reference model for the page.
func modelWords(m *ngram.Model) string {
	return fmt.Sprintf("character %d-gram, modified Kneser–Ney, trained on %s held-in characters (%s rows) of this corpus",
		m.Order(), num(float64(m.TrainChars())), num(float64(m.TrainRows())))
}

// rounded shows perplexities to one decimal.
func rounded(list []Sample) []Sample {
	out := make([]Sample, len(list))
	for i, s := range list {
		s.Perplexity = round1(s.Perplexity)
		out[i] = s
	}
	return out
}

// intro says what the perplexity section measures, for both renderings.
func (p *PerplexityStats) intro() string {
	return fmt.Sprintf("Perplexity per character (the end of a row counts as one) under a reference model: %s. "+
		"It trained on the rows of clean/ (triples left out) whose seeded id hash makes them one in %d, smallest hashes first up to %s characters; "+
		"only the other rows are scored, so fluent in-domain text scores low and gibberish, boilerplate or text unlike the rest of the corpus high. "+
		"Bins are whole numbers (rounded down); means and percentiles are of the exact values (percentiles from a uniform sample of %s rows past that many). "+
		"The highest and lowest rows are of at least %d characters, personal data masked.",
		p.Model, p.Stride, num(float64(p.CharCap)), num(pplQuantileRows), pplExtremeMin)
}

// percentileRows is the per-kind table of both renderings.
func (p *PerplexityStats) percentileRows() (head []string, rows [][]string) {
	head = []string{"kind", "scored", "held in", "mean"}
	for _, q := range pplPercentiles {
		head = append(head, fmt.Sprintf("p%.0f", q*100))
	}
	head = append(head, "max")
	for _, k := range p.Kinds {
		rows = append(rows, pplRow([]string{k.Kind, num(float64(k.Scored)), num(float64(k.HeldIn))}, k.Scored, k.Mean, k.Max, k.Percentiles))
	}
	return head, rows
}

// quantile is the q-quantile of sorted values, interpolated linearly
// between the two nearest ranks.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

// hashedValue is one row's perplexity and its id hash.
type hashedValue struct {
	hash  uint64
	value float64
}

// valueHeap is a max-heap by hash, so the row to drop is at the top.
type valueHeap []hashedValue

func (h valueHeap) Len() int           { return len(h) }
func (h valueHeap) Less(i, j int) bool { return h[i].hash > h[j].hash }
func (h valueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *valueHeap) Push(x any)        { *h = append(*h, x.(hashedValue)) }
func (h *valueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// summary is a chart's subtitle: the exact statistics, not the bins'.
func (k *KindPerplexity) summary() string {
	parts := []string{"n=" + num(float64(k.Scored)), fmt.Sprintf("mean %.1f", k.Mean)}
	for _, p := range k.Percentiles {
		if p.Name == "p50" || p.Name == "p90" {
			parts = append(parts, fmt.Sprintf("%s %.1f", p.Name, p.Value))
		}
	}
	return strings.Join(append(parts, fmt.Sprintf("max %.1f", k.Max)), " · ")
}

// removedPerplexity scores every removed/ row but triples, per reason.
func (s *corpusScan) removedPerplexity(ps *PerplexityStats) error {
	files, err := schemas.PartFiles(s.c.ws.Removed())
	if err != nil {
		return err
	}
	type acc struct {
		summary    pplSummary
		unreadable int64
	}
	byReason := map[string]*acc{}
	var b strings.Builder
	for _, f := range files {
		for row, err := range schemas.ReadFile[schemas.RemovedRow](f) {
			if err != nil {
				return fmt.Errorf("stats: %w", err)
			}
			k := schemas.Kind(row.Kind)
			if !pplScored(k) {
				continue
			}
			a := byReason[row.Reason]
			if a == nil {
				a = &acc{}
				byReason[row.Reason] = a
			}
			r := newRecord(k)
			if r == nil || json.Unmarshal([]byte(row.Record), r) != nil {
				a.unreadable++
				continue
			}
			a.summary.add(row.ID, s.model.Perplexity(rowText(r, &b)))
		}
	}
	ps.Removed = []ReasonPerplexity{}
	for reason, a := range byReason {
		rp := ReasonPerplexity{Reason: reason, Scored: a.summary.n, Unreadable: a.unreadable}
		rp.Mean, rp.Max, rp.Percentiles, rp.PercentileSample = a.summary.result()
		ps.Removed = append(ps.Removed, rp)
	}
	slices.SortFunc(ps.Removed, func(a, b ReasonPerplexity) int {
		return cmp.Or(cmp.Compare(b.Scored+b.Unreadable, a.Scored+a.Unreadable), cmp.Compare(a.Reason, b.Reason))
	})
	return nil
}

// removedRows is the per-reason table of both renderings.
func (p *PerplexityStats) removedRows() (head []string, rows [][]string) {
	head = []string{"removal reason", "scored", "unreadable", "mean"}
	for _, q := range pplPercentiles {
		head = append(head, fmt.Sprintf("p%.0f", q*100))
	}
	head = append(head, "max")
	for _, r := range p.Removed {
		rows = append(rows, pplRow([]string{r.Reason, num(float64(r.Scored)), num(float64(r.Unreadable))}, r.Scored, r.Mean, r.Max, r.Percentiles))
	}
	return head, rows
}

// pplRow ends a table row with the mean, percentiles and maximum, or
// dashes when no row was scored.
func pplRow(row []string, scored int64, mean, maxValue float64, percentiles []NameValue) []string {
	if scored == 0 {
		for range len(pplPercentiles) + 2 {
			row = append(row, "–")
		}
		return row
	}
	row = append(row, fmt.Sprintf("%.1f", mean))
	for _, p := range percentiles {
		row = append(row, fmt.Sprintf("%.1f", p.Value))
	}
	return append(row, fmt.Sprintf("%.1f", maxValue))
}
