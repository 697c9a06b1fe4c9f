package sink

import "sort"

// mergeRange adds x to rs, which is sorted (by the epochs' order of
// appearance, then by From) and merged (no two ranges of an epoch overlap
// or touch), and keeps it so. Drop incidents end in any order (the
// writer's undelivered batches, drop-oldest and drop-newest interleave),
// so the summary would otherwise list 5..9 after 10..20, or both.
func mergeRange(rs []SeqRange, x SeqRange, order func(epoch string) int) []SeqRange {
	less := func(a, b SeqRange) bool {
		if a.Epoch != b.Epoch {
			return order(a.Epoch) < order(b.Epoch)
		}
		return a.From < b.From
	}
	i := sort.Search(len(rs), func(i int) bool { return !less(rs[i], x) })
	rs = append(rs, SeqRange{})
	copy(rs[i+1:], rs[i:])
	rs[i] = x
	// merge around i: with the one before, then absorb those after
	if i > 0 && rs[i-1].Epoch == x.Epoch && uint64(rs[i-1].To)+1 >= uint64(x.From) {
		rs[i-1].To = max(rs[i-1].To, x.To)
		rs = append(rs[:i], rs[i+1:]...)
		i--
	}
	for i+1 < len(rs) && rs[i+1].Epoch == rs[i].Epoch && uint64(rs[i].To)+1 >= uint64(rs[i+1].From) {
		rs[i].To = max(rs[i].To, rs[i+1].To)
		rs = append(rs[:i+1], rs[i+2:]...)
	}
	return rs
}
