package ingest

// NoLoop makes n's sessions read on their own goroutines, as they do
// where no pubLoop can read their connections (TLS, not Linux).
func NoLoop(n *Network) { n.noLoop.Store(true) }

// LoopReads is how many reads a pubLoop made for n's sessions.
func LoopReads(n *Network) uint64 { return n.loopReads.Load() }
