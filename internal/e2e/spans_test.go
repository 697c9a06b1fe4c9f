package e2e

import (
	"fmt"
	"strings"
)

// span is an inclusive range of sequence numbers or sample indexes.
type span struct{ From, To int64 }

func (s span) n() int64 { return s.To - s.From + 1 }

func (s span) String() string { return fmt.Sprintf("%d..%d", s.From, s.To) }

// spans is a sorted list of disjoint ranges; add merges touching ones.
type spans []span

// add appends s, merging it with the last range when they touch. Ranges
// must be added in increasing order (what a stream produces).
func (ss *spans) add(s span) {
	if n := len(*ss); n > 0 && (*ss)[n-1].To+1 >= s.From {
		if s.To > (*ss)[n-1].To {
			(*ss)[n-1].To = s.To
		}
		return
	}
	*ss = append(*ss, s)
}

func (ss spans) total() int64 {
	var t int64
	for _, s := range ss {
		t += s.n()
	}
	return t
}

// within returns the parts of ss inside [lo, hi].
func (ss spans) within(lo, hi int64) spans {
	var out spans
	for _, s := range ss {
		s.From, s.To = max(s.From, lo), min(s.To, hi)
		if s.From <= s.To {
			out.add(s)
		}
	}
	return out
}

func (ss spans) String() string {
	if len(ss) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, s := range ss {
		if i == 8 {
			fmt.Fprintf(&b, " ... (%d ranges)", len(ss))
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// fromPoints builds spans from sorted distinct points.
func fromPoints(ps []int64) spans {
	var out spans
	for _, p := range ps {
		out.add(span{p, p})
	}
	return out
}

// union merges two span lists.
func union(a, b spans) spans {
	var out spans
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || i < len(a) && a[i].From <= b[j].From {
			out.add(a[i])
			i++
		} else {
			out.add(b[j])
			j++
		}
	}
	return out
}

func equalSpans(a, b spans) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// minus returns the points of a that are not in b (small sets only).
func minus(a, b spans) spans {
	in := map[int64]bool{}
	for _, s := range b {
		for p := s.From; p <= s.To; p++ {
			in[p] = true
		}
	}
	var out spans
	for _, s := range a {
		for p := s.From; p <= s.To; p++ {
			if !in[p] {
				out.add(span{p, p})
			}
		}
	}
	return out
}
