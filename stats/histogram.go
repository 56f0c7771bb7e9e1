package stats

import (
	"fmt"
	"math"
)

// Histogram counts values in fixed bins, so memory does not grow with the
// corpus. Bin i holds values in [Lo, Hi) (Hi 0: no upper bound).
type Histogram struct {
	// Field is the column ("text", "messages.user"…); Unit is "chars",
	// "words" or "turns".
	Field string `json:"field"`
	Unit  string `json:"unit"`
	N     int64  `json:"n"`
	Sum   int64  `json:"sum"`
	Max   int64  `json:"max"`
	Bins  []Bin  `json:"bins"`
}

// Bin is one histogram bar.
type Bin struct {
	Label string `json:"label"`
	Lo    int64  `json:"lo"`
	Hi    int64  `json:"hi"`
	Count int64  `json:"count"`
}

// lengthEdges are the lower edges of the text-length bins: doubling from 16
// so short questions and long textbook pages both show.
var lengthEdges = []int64{0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}

// turnEdges are the lower edges of the turns-per-dialogue bins.
var turnEdges = []int64{0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 21, 51}

func newHistogram(field, unit string, edges []int64) *Histogram {
	h := &Histogram{Field: field, Unit: unit}
	for i, lo := range edges {
		b := Bin{Lo: lo}
		if i+1 < len(edges) {
			b.Hi = edges[i+1]
			if b.Hi-lo == 1 {
				b.Label = fmt.Sprint(lo)
			} else {
				b.Label = fmt.Sprintf("%d–%d", lo, b.Hi-1)
			}
		} else {
			b.Label = fmt.Sprintf("≥%d", lo)
		}
		h.Bins = append(h.Bins, b)
	}
	return h
}

// Add counts one value.
func (h *Histogram) Add(v int64) {
	h.N++
	h.Sum += v
	h.Max = max(h.Max, v)
	for i := len(h.Bins) - 1; i >= 0; i-- {
		if v >= h.Bins[i].Lo {
			h.Bins[i].Count++
			return
		}
	}
	h.Bins[0].Count++ // negative values cannot happen; count them in the first bin
}

// Mean is the average value, 0 for no values.
func (h *Histogram) Mean() float64 {
	if h.N == 0 {
		return 0
	}
	return float64(h.Sum) / float64(h.N)
}

// Quantile estimates the q-quantile by linear interpolation inside the bin
// it falls in (the last, open bin interpolates up to Max).
func (h *Histogram) Quantile(q float64) float64 {
	if h.N == 0 {
		return 0
	}
	target := q * float64(h.N)
	var seen float64
	for _, b := range h.Bins {
		c := float64(b.Count)
		if c > 0 && seen+c >= target {
			hi := float64(b.Hi)
			if b.Hi == 0 || hi > float64(h.Max)+1 {
				hi = float64(h.Max) + 1
			}
			v := float64(b.Lo) + (target-seen)/c*(hi-float64(b.Lo))
			return math.Min(v, float64(h.Max))
		}
		seen += c
	}
	return float64(h.Max)
}
