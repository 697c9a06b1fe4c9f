package benchenv

import (
	"net"
	"os"
	"path/filepath"
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
