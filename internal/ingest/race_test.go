//go:build race

package ingest_test

// raceEnabled: the race detector slows everything about tenfold; the
// heaviest tests run smaller under it.
const raceEnabled = true
