package testsupport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/testenv"
)

// RunR runs script with `Rscript --vanilla` and args and returns what it
// printed on stdout. It skips the test (fails it under CI=true) when
// Rscript is missing, fails it with R's output when R fails, and kills R
// after 60 s.
func RunR(t testing.TB, script string, args ...string) string {
	t.Helper()
	rscript := testenv.Need(t, "Rscript", "r-base-core")
	f := filepath.Join(t.TempDir(), "test.R")
	if err := os.WriteFile(f, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rscript, append([]string{"--vanilla", f}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Rscript: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	return string(out)
}

// readLinesR is the README's base R recipe: the port opened with
// file(raw = TRUE, blocking = FALSE), read with readLines until it has
// the lines wanted or the time is up, then written to a file.
const readLinesR = `
args <- commandArgs(trailingOnly = TRUE)
want <- as.integer(args[3])
con <- file(args[1], open = "r", raw = TRUE, blocking = FALSE)
x <- character(0)
deadline <- Sys.time() + as.numeric(args[4])
while (length(x) < want && Sys.time() < deadline) {
  x <- c(x, readLines(con))
  Sys.sleep(0.01)
}
close(con)
writeLines(x, args[2])
`

// ReadLinesR has R read at least n lines from the serial port at port
// with the README's base R recipe, for up to within (under RunR's 60 s),
// and returns every line it read, in order.
func ReadLinesR(t testing.TB, port string, n int, within time.Duration) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.txt")
	RunR(t, readLinesR, port, out, strconv.Itoa(n), strconv.Itoa(int(within.Seconds())))
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
}
