package ingest

// loopResult is what a pubLoop hands to the session's goroutine: an event
// or error to handle, or (resume) only the turn to read on its own.
type loopResult struct {
	ev     wsEvent
	err    error
	resume bool
}
