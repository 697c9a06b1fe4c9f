//go:build !linux

package ingest

// pubReg is a session's registration with a pubLoop: Linux only; here
// every session reads its connection on its own goroutine.
type pubReg struct{}

func newPubReg(*Network, *session) *pubReg { return nil }

func (*pubReg) wait(*session) loopResult { return loopResult{resume: true} }
