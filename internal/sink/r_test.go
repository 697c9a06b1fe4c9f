package sink

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/testsupport"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// readRCSV reads a csv that R's write.csv wrote: a header and numbers.
func readRCSV(t *testing.T, path string) ([]string, [][]int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("R's csv: %v (%d records)", err, len(recs))
	}
	var rows [][]int64
	for i, rec := range recs[1:] {
		row := make([]int64, len(rec))
		for j, s := range rec {
			if row[j], err = strconv.ParseInt(s, 10, 64); err != nil {
				t.Fatalf("R's row %d: %q is not an integer", i, s)
			}
		}
		rows = append(rows, row)
	}
	return recs[0], rows
}

// TestRHelperReadsExactCounter: sim -> serve -> sink --virtual --header ->
// examples/r/wsbridge.R's wsbridge_read in Rscript. R must read 5000 rows
// of the counter, in order, each exactly once, with the channel names.
func TestRHelperReadsExactCounter(t *testing.T) {
	needE2E(t)
	helper, _ := filepath.Abs("../../examples/r/wsbridge.R")
	link, _ := startSim(t, 10*e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 10*time.Second)
	// Rscript and the helper's source() take seconds to start on a loaded
	// machine (over 5 s at a load average of 20 on 2 cores): a queue far
	// longer than that, so the sink drops nothing before R reads and every
	// row must follow the one before.
	r := startSink(t, sp.WS, func(o *Options) { o.Header = true; o.Buffer = 2 * time.Minute })
	out := filepath.Join(t.TempDir(), "r.csv")
	stdout := testsupport.RunR(t, `
options(scipen = 100)
args <- commandArgs(trailingOnly = TRUE)
source(args[1])
t0 <- Sys.time()
d <- wsbridge_read(args[2], n_max = 5000, timeout = 20)
el <- as.numeric(Sys.time() - t0, units = "secs")
write.csv(d, args[3], row.names = FALSE)
cat(sprintf("rows %d cols %s in %.2fs\n", nrow(d), paste(names(d), collapse = ","), el))
`, helper, r.info.Link, out)
	t.Logf("R: %s", strings.TrimSpace(stdout))
	names, rows := readRCSV(t, out)
	if strings.Join(names, ",") != "ch0,ch1" || len(rows) != 5000 {
		t.Fatalf("R read columns %v and %d rows, want ch0,ch1 and 5000", names, len(rows))
	}
	checkCounterRows(t, rows)
	if sum := r.stop(t); sum.Duplicates != 0 {
		t.Errorf("sink summary %+v", sum)
	}
}

func checkCounterRows(t *testing.T, rows [][]int64) {
	t.Helper()
	if rows[0][0]%e2eF != 0 {
		t.Errorf("R's first sample %d is not the start of a frame", rows[0][0])
	}
	for i, row := range rows {
		if row[1] != row[0]+1 || i > 0 && row[0] != rows[i-1][0]+1 {
			t.Fatalf("R row %d = %v after %v: not the next counter sample", i, row, rows[max(i-1, 0)])
		}
	}
	t.Logf("R read samples %d..%d in order, exactly once", rows[0][0], rows[len(rows)-1][0])
}

// TestRRecipeFromDocs runs the base R recipe printed by the sink and shown
// in the README: file(raw = TRUE, blocking = FALSE) + readLines, then
// read.csv with comment.char = "#".
func TestRRecipeFromDocs(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the other parallel tests
	needE2E(t)
	link, _ := startSim(t, e2eRate)
	sp := startServe(t, link, "127.0.0.1:0", 10*time.Second)
	// A queue far longer than Rscript takes to start on a loaded machine:
	// nothing is dropped before R reads, so every row follows the one before.
	r := startSink(t, sp.WS, func(o *Options) { o.Buffer = 2 * time.Minute })
	out := filepath.Join(t.TempDir(), "r.csv")
	testsupport.RunR(t, `
options(scipen = 100)
args <- commandArgs(trailingOnly = TRUE)
con <- file(args[1], open = "r", raw = TRUE, blocking = FALSE)
x <- character(0)
deadline <- Sys.time() + 20
while (length(x) < 2000 && Sys.time() < deadline) {
  x <- c(x, readLines(con))
  Sys.sleep(0.01)
}
close(con)
d <- read.csv(text = x, header = FALSE, comment.char = "#", col.names = c("ch0", "ch1"))
write.csv(d, args[2], row.names = FALSE)
`, r.info.Link, out)
	_, rows := readRCSV(t, out)
	if len(rows) < 2000 {
		t.Fatalf("R read %d rows, want at least 2000", len(rows))
	}
	checkCounterRows(t, rows)
}

// TestRHelperHeaderTimestampsReplies: channel names from the csv header,
// the time column, and '#' reply lines skipped.
func TestRHelperHeaderTimestampsReplies(t *testing.T) {
	t.Parallel() // mostly waiting: overlaps with the other parallel tests
	helper, _ := filepath.Abs("../../examples/r/wsbridge.R")
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) { o.Header, o.Timestamps, o.RepliesToPort = true, true, true })
	c := ts.accept(t)
	c.hello(t, 0, &wsproto.Device{Name: "t", Rate: testRate, Channels: 2, SampleType: "i16", FrameSamples: testSamples,
		ChannelInfo: []frame.Channel{{Name: "left"}, {Name: "right"}}})
	c.frames(t, 0, 4)
	c.sendJSON(t, wsproto.Reply{Type: wsproto.TypeReply, OK: true, Text: "rate 1000"})
	c.frames(t, 5, 9)
	out := filepath.Join(t.TempDir(), "r.csv")
	testsupport.RunR(t, `
options(scipen = 100)
args <- commandArgs(trailingOnly = TRUE)
source(args[1])
d <- wsbridge_read(args[2], n_max = 100, timeout = 10)
write.csv(d, args[3], row.names = FALSE)
`, helper, r.info.Link, out)
	names, rows := readRCSV(t, out)
	if strings.Join(names, ",") != "t_us,left,right" || len(rows) != 100 {
		t.Fatalf("R read columns %v and %d rows, want t_us,left,right and 100", names, len(rows))
	}
	for k, row := range rows {
		if want := []int64{int64(k) * 1000, int64(k), int64(k) + 1}; fmt.Sprint(row) != fmt.Sprint(want) {
			t.Fatalf("R row %d = %v, want %v", k, row, want)
		}
	}
}

// TestRWritesCommand: R writes a command line into the port on a second
// connection; it reaches serve as a command and the reply comes back as
// a '#' line that the helper skips.
func TestRWritesCommand(t *testing.T) {
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) { o.RepliesToPort = true })
	c := ts.accept(t)
	c.hello(t, 0, nil)
	go func() {
		select {
		case m := <-c.msgs:
			if cmd, err := wsproto.ParseClientMessage(m); err == nil {
				c.sendJSON(t, wsproto.Reply{Type: wsproto.TypeReply, OK: true, Text: cmd.Line})
				c.frames(t, 0, 0)
			}
		case <-time.After(20 * time.Second):
		}
	}()
	stdout := testsupport.RunR(t, `
args <- commandArgs(trailingOnly = TRUE)
w <- file(args[1], open = "w", raw = TRUE)
writeLines("rate 8000", w)
flush(w)
con <- file(args[1], open = "r", raw = TRUE, blocking = FALSE)
x <- character(0)
deadline <- Sys.time() + 20
while (length(x) < 11 && Sys.time() < deadline) {
  x <- c(x, readLines(con))
  Sys.sleep(0.01)
}
close(w); close(con)
cat(x, sep = "\n")
`, r.info.Link)
	want := "# ok rate 8000\n" + wantCSV(0, 0)
	if stdout != want {
		t.Fatalf("R printed %q, want %q", stdout, want)
	}
}
