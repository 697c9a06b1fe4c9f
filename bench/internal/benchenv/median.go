package benchenv

import (
	"math"
	"slices"
)

// Median is the median of xs, NaNs left out (NaN when nothing is left):
// how both benchmark programs sum up the repeated runs of one system.
// xs is not modified.
func Median(xs []float64) float64 {
	xs = slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
