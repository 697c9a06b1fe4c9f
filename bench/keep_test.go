//go:build linux

package main

import "testing"

func TestKeepSections(t *testing.T) {
	old := "# report\n\nold table\n\n<!-- section wifi: written by x -->\n## Wi-Fi\nrows\n<!-- /section wifi -->\n"
	got := keepSections(old, "# report\n\nnew table\n")
	want := "# report\n\nnew table\n\n<!-- section wifi: written by x -->\n## Wi-Fi\nrows\n<!-- /section wifi -->\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if again := keepSections(got, got); again != got {
		t.Fatalf("a section already in the new report was added twice: %q", again)
	}
}
