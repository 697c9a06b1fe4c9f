package frametest_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/wsbridge/wsbridge/internal/frame/frametest"
)

var update = flag.Bool("update", false, "rewrite "+frametest.JSONFile+" from the Go tables")

// TestJSONIsCurrent: golden.json, which decoders outside Go read, says
// what the Go tables say. After adding a case, run
// go test ./internal/frame/frametest -update.
func TestJSONIsCurrent(t *testing.T) {
	want := frametest.JSON()
	if *update {
		if err := os.WriteFile(frametest.JSONFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(frametest.JSONFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./internal/frame/frametest -update", frametest.JSONFile)
	}
}

// TestFailingCasesAreNamedAndDistinct: every case has a kind that other
// languages can compare, and no two cases share a name or bytes.
func TestFailingCasesAreNamedAndDistinct(t *testing.T) {
	names, inputs := map[string]bool{}, map[string]bool{}
	for _, b := range frametest.Failing {
		if b.Kind() == "" {
			t.Errorf("%s: error %v is not a frame sentinel", b.Name, b.Err)
		}
		if names[b.Name] || inputs[b.Serial] {
			t.Errorf("%s: a second case with this name or these bytes", b.Name)
		}
		names[b.Name], inputs[b.Serial] = true, true
		if (b.Hex == "") != (b.Layer == frametest.LayerSerial) {
			t.Errorf("%s: layer %s with hex %.20q", b.Name, b.Layer, b.Hex)
		}
	}
}
