//go:build !amd64

package gomlxpatch

// expInto sets dst[i] = e^src[i]; dst may be src.
func expInto(dst, src []float32) {
	for i, v := range src {
		dst[i] = exp32(v)
	}
}

// logisticInto sets dst[i] = 1/(1+e^−src[i]); dst may be src.
func logisticInto(dst, src []float32) {
	for i, v := range src {
		dst[i] = logistic32(v)
	}
}
