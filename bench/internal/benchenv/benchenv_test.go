package benchenv

import (
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestRepoRootFromASubfolder: from bench/internal/benchenv the root is
// three folders up, and holds go.mod.
func TestRepoRootFromASubfolder(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Abs("../../..")
	if root != want {
		t.Fatalf("RepoRoot = %s, want %s", root, want)
	}
	t.Chdir(t.TempDir())
	if _, err := RepoRoot(); err == nil {
		t.Fatal("RepoRoot outside the repository: no error")
	}
	if _, err := os.Stat(filepath.Join(want, "go.mod")); err != nil {
		t.Fatal(err)
	}
}

// TestFreePortCanBeListenedOn: the port FreePort returns can be taken.
func TestFreePortCanBeListenedOn(t *testing.T) {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("listen on the free port %d: %v", p, err)
	}
	ln.Close()
}

// TestMedian: odd and even counts, NaNs left out, nothing left is NaN,
// and the input keeps its order.
func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{math.NaN(), 5, 1}, 3},
		{[]float64{7}, 7},
	} {
		in := slices.Clone(tc.xs)
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", in, got, tc.want)
		}
		if !slices.EqualFunc(in, tc.xs, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
			t.Errorf("Median reordered its input: %v, was %v", tc.xs, in)
		}
	}
	if got := Median([]float64{math.NaN()}); !math.IsNaN(got) {
		t.Errorf("Median of only NaN = %v, want NaN", got)
	}
}
