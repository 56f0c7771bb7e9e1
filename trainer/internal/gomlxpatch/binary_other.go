//go:build !amd64

package gomlxpatch

// binarySIMD does nothing off amd64: binaryRun's Go loops run it all.
func binarySIMD(op elementOp, dst, x, y []float32, xs, ys, n int) int { return 0 }

// sumLanes does nothing off amd64: reduceRow's Go loop sums it all.
func sumLanes(acc *[8]float32, x []float32) int { return 0 }
