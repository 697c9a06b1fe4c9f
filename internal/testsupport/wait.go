package testsupport

import (
	"testing"
	"time"
)

// Within polls cond every interval until it returns true or d has passed,
// and reports whether it returned true. cond is called at least once.
func Within(d, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
	return true
}

// WaitFor polls cond every 5 ms for up to d and fails the test, naming
// what it waited for, if cond never returned true.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Within(d, 5*time.Millisecond, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}
