// Package r holds the Go test that checks the R package in r/wsbridge:
// `R CMD check` with its tests reading a live stream (simulator -> serve ->
// sink --virtual -> R), through base R and through the CRAN serial package.
package r

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/sink"
	"github.com/wsbridge/wsbridge/internal/testenv"
	"github.com/wsbridge/wsbridge/internal/testsupport/rig"
)

const (
	simRate    = 1000
	simSamples = 10 // sample instants per frame
)

// TestRCMDCheck builds the R package and runs `R CMD check --no-manual` on
// it. Its tests (tests/testthat/test-live.R) read a live counter stream
// from a sink's virtual port: by base R on the link, through the CRAN
// serial package by the pts/N name and by the link (../tmp/... relative
// to /dev), and across a sink restart behind the same link; and a sink
// fed by a scripted server whose gaps and restart reach R as gap lines. R
// writes what it read; this test then checks every value.
func TestRCMDCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("R CMD check takes about a minute: run without -short")
	}
	rbin := testenv.Need(t, "R", "r-base-core")
	needRPackage(t, "testthat", "r-cran-testthat")
	work := t.TempDir()
	lib := filepath.Join(work, "lib")
	os.MkdirAll(lib, 0o755)
	env := []string{"R_LIBS=" + lib, "WSBRIDGE_TEST_OUT=" + work, "_R_CHECK_FORCE_SUGGESTS_=false",
		// no network here: no CRAN lookups, no clock lookup for file timestamps
		"_R_CHECK_CRAN_INCOMING_=false", "_R_CHECK_FUTURE_FILE_TIMESTAMPS_=false", "R_DEFAULT_INTERNET_TIMEOUT=1"}
	if tarball := serialTarball(); tarball == "" {
		t.Logf("the CRAN serial package's source is not at ../shared/r/serial_3.0.tar.gz (nor in $WSBRIDGE_R_SERIAL_TARBALL): " +
			"the tests through the serial package SKIP; only base R is checked")
	} else {
		runCmd(t, work, nil, rbin, "CMD", "INSTALL", "-l", lib, tarball)
		env = append(env, "WSBRIDGE_TEST_SERIAL=1")
	}

	link := filepath.Join(work, "ttyESP32")
	url := startServe(t)
	sk := startSink(t, url, link, false)
	gapLink := filepath.Join(work, "ttyGAPS")
	startSink(t, gapServer(t), gapLink, true)
	control := filepath.Join(work, "control")
	os.MkdirAll(control, 0o755)
	go restartOnRequest(t, control, url, link, sk)
	env = append(env, "WSBRIDGE_TEST_PORT="+link, "WSBRIDGE_TEST_PTS="+sk.Name(), "WSBRIDGE_TEST_CONTROL="+control,
		"WSBRIDGE_TEST_GAPS_PORT="+gapLink)

	src, _ := filepath.Abs("wsbridge")
	runCmd(t, work, nil, rbin, "CMD", "build", "--no-build-vignettes", "--no-manual", src)
	out := runCmd(t, work, env, rbin, "CMD", "check", "--no-manual", "--no-build-vignettes", "wsbridge_0.1.0.tar.gz")
	status := regexp.MustCompile(`(?m)^Status: .*$`).FindString(out)
	t.Logf("R CMD check: %s", status)
	if !strings.HasPrefix(status, "Status: OK") && !regexp.MustCompile(`^Status: \d+ NOTEs?$`).MatchString(status) {
		t.Fatalf("R CMD check: %s\n%s\n%s", status, out, testLog(work))
	}
	if strings.Contains(status, "NOTE") {
		t.Logf("R CMD check notes:\n%s", grepNotes(out))
	}
	t.Logf("R's tests:\n%s", lastLines(testLog(work), 12))
	if !strings.Contains(testLog(work), "| WARN 0 |") {
		t.Errorf("R's tests warned: run them with options(warn = 1) to see where")
	}

	checkCounter(t, filepath.Join(work, "file.csv"), 5000, false)
	checkGaps(t, work)
	if serialTarball() != "" {
		checkCounter(t, filepath.Join(work, "serial-pts.csv"), 3000, false)
		checkCounter(t, filepath.Join(work, "serial-link.csv"), 3000, false)
		// a new sink's port starts with its first frame, and is not cut
		checkCounter(t, filepath.Join(work, "restart-after.csv"), 500, true)
	}
}

// needRPackage skips (fails under CI=true) when R lacks a package.
func needRPackage(t *testing.T, pkg, deb string) {
	t.Helper()
	rscript := testenv.Need(t, "Rscript", "r-base-core")
	if exec.Command(rscript, "-e", fmt.Sprintf("quit(status = !requireNamespace(%q, quietly = TRUE))", pkg)).Run() != nil {
		msg := "R package " + pkg + " not installed: apt-get install " + deb
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// serialTarball is the CRAN serial package's source: $WSBRIDGE_R_SERIAL_TARBALL,
// or shared/r/ beside the repository (../shared/r from its root).
func serialTarball() string {
	// From r/: shared/ beside the clone, or beside its parent (a git
	// worktree under a folder of worktrees).
	for _, p := range []string{os.Getenv("WSBRIDGE_R_SERIAL_TARBALL"), "../../shared/r/serial_3.0.tar.gz", "../../../shared/r/serial_3.0.tar.gz"} {
		if p == "" {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			if _, err := os.Stat(abs); err == nil {
				return abs
			}
		}
	}
	return ""
}

// runCmd runs a command in dir with extra environment and returns its
// combined output; a failure fails the test with that output.
func runCmd(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, testLog(dir))
	}
	return string(out)
}

// testLog is the output of the package's tests in an R CMD check directory.
func testLog(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "wsbridge.Rcheck", "tests", "testthat.Rout.fail"))
	if len(b) == 0 {
		b, _ = os.ReadFile(filepath.Join(dir, "wsbridge.Rcheck", "tests", "testthat.Rout"))
	}
	return string(b)
}

func grepNotes(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "NOTE") || strings.HasPrefix(l, "  ") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(len(l)-n, 0):], "\n")
}

// startServe runs serve on a simulated counter device on a pty: two
// channels, sample index k carries k and k+1, simSamples per frame.
func startServe(t *testing.T) string {
	t.Helper()
	cfg := adcsim.DefaultConfig()
	cfg.Signal, cfg.Rate, cfg.Channels, cfg.SampleType, cfg.FrameSamples = "counter", simRate, 2, "i32", simSamples
	return rig.DeviceAndServe(t, cfg).WS
}

// runningSink is a sink started by the test; stop ends it.
type runningSink struct {
	info   sink.PortInfo
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *runningSink) Name() string { return s.info.Name }

func (s *runningSink) stop() {
	s.cancel()
	<-s.done
}

// startSink runs a sink writing csv into a virtual port at link, with a
// buffer long enough that nothing is dropped while R CMD check gets to the
// tests (10 minutes of a 1 kHz stream is a few MB).
func startSink(t *testing.T, url, link string, header bool) *runningSink {
	t.Helper()
	o := sink.DefaultOptions()
	o.URL, o.Virtual, o.Buffer, o.Header = url, link, 10*time.Minute, header
	o.StatusInterval, o.PingInterval = 0, 0
	o.Log = zerolog.Nop()
	ready := make(chan sink.PortInfo, 1)
	o.Ready = func(pi sink.PortInfo) { ready <- pi }
	ctx, cancel := context.WithCancel(context.Background())
	s := &runningSink{cancel: cancel, done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() { defer close(s.done); errc <- sink.Run(ctx, o) }()
	select {
	case s.info = <-ready:
	case err := <-errc:
		t.Fatalf("sink: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("sink did not start within 10s")
	}
	t.Cleanup(s.stop)
	return s
}

// restartOnRequest restarts the sink behind the same link when R creates
// control/restart, and then creates control/restarted holding the new
// pts name.
func restartOnRequest(t *testing.T, control, url, link string, s *runningSink) {
	for ctx := t.Context(); ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(control, "restart")); err != nil {
			continue
		}
		s.stop()
		n := startSink(t, url, link, false)
		os.WriteFile(filepath.Join(control, "restarted"), []byte(n.Name()), 0o644)
		return
	}
}

// checkCounter reads a csv R wrote (columns ch0, ch1) and checks that it
// holds at least n rows of the counter: consecutive sample indices, ch1 =
// ch0 + 1, from the start of a frame if frameStart.
func checkCounter(t *testing.T, path string, n int, frameStart bool) {
	t.Helper()
	recs := readCSV(t, path)
	if len(recs) < n+1 {
		t.Fatalf("%s: %d records, want a header and %d rows", filepath.Base(path), len(recs), n)
	}
	if strings.Join(recs[0], ",") != "ch0,ch1" {
		t.Fatalf("%s: columns %v, want ch0,ch1", filepath.Base(path), recs[0])
	}
	var prev int64 = -1
	for i, r := range recs[1:] {
		a, err1 := strconv.ParseInt(r[0], 10, 64)
		b, err2 := strconv.ParseInt(r[1], 10, 64)
		switch {
		case err1 != nil || err2 != nil:
			t.Fatalf("%s row %d: %v is not two integers", filepath.Base(path), i+1, r)
		case i == 0 && frameStart && a%simSamples != 0:
			t.Fatalf("%s: first sample %d is not the start of a frame", filepath.Base(path), a)
		case i > 0 && a != prev+1, b != a+1:
			t.Fatalf("%s row %d: %d,%d after %d: not the next counter sample", filepath.Base(path), i+1, a, b, prev)
		}
		prev = a
	}
	t.Logf("%s: %d rows, samples %s..%d in order, each once", filepath.Base(path), len(recs)-1, recs[1][0], prev)
}
