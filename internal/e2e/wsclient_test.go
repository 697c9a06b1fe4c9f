package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// arrival is when a frame arrived and the sample index just after it.
type arrival struct {
	at  time.Time
	end int64
}

// wsRec is a WebSocket client of serve that records and checks everything
// it receives: hello, frames (every counter sample checked), gaps,
// statuses, errors. fs is the stream's samples per frame (to map csv
// lines, which carry no seq, to frames). Safe for concurrent use.
type wsRec struct {
	format string
	fs     int64
	conn   *websocket.Conn
	chk    *counterCheck
	cancel context.CancelFunc
	done   chan struct{}
	light  bool // check only seqs, not every sample, and record arrivals (load tests)

	mu       sync.Mutex
	hellos   []wsproto.Hello
	seqs     spans // frames received (csv: derived from the counter)
	dupSeqs  int
	gaps     []wsproto.Gap
	statuses []wsproto.Status
	errs     []wsproto.Error
	other    []string
	arrivals []arrival
	err      error // why reading ended
}

// dialRec connects to url (format and query already in it) and starts
// recording. header may be nil.
func dialRec(t testing.TB, url, format string, fs int, chans int, header http.Header) *wsRec {
	t.Helper()
	return dialRecMode(t, url, format, fs, chans, header, false)
}

// dialRecMode is dialRec; light records seqs and arrival times only.
func dialRecMode(t testing.TB, url, format string, fs int, chans int, header http.Header, light bool) *wsRec {
	t.Helper()
	conn, err := dialWS(url, header)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	r := &wsRec{format: format, fs: int64(fs), conn: conn, chk: newCounterCheck(chans), done: make(chan struct{}),
		light: light}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.loop(ctx)
	t.Cleanup(r.close)
	return r
}

func dialWS(url string, header http.Header) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		if resp != nil {
			return nil, &httpRefusal{Code: resp.StatusCode, Err: err}
		}
		return nil, err
	}
	conn.SetReadLimit(4 << 20)
	return conn, nil
}

// httpRefusal is a handshake answered with an HTTP status.
type httpRefusal struct {
	Code int
	Err  error
}

func (e *httpRefusal) Error() string { return http.StatusText(e.Code) + ": " + e.Err.Error() }

func (r *wsRec) loop(ctx context.Context) {
	defer close(r.done)
	for {
		typ, b, err := r.conn.Read(ctx)
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		now := time.Now()
		if typ == websocket.MessageBinary {
			r.binary(b, now)
			continue
		}
		r.text(b, now)
	}
}

func (r *wsRec) binary(b []byte, now time.Time) {
	var p frame.Packet
	if err := frame.Parse(&p, b); err != nil || p.Type != frame.TypeData {
		r.addOther("bad binary message: " + errString(err))
		return
	}
	f := &p.Frame
	if r.light {
		r.frame(int64(f.Seq), int64(f.Seq)*r.fs, int64(f.Count), now)
		return
	}
	vals := make([]int64, f.Channels)
	for i := 0; i < int(f.Count); i++ {
		for ch := range vals {
			vals[ch] = f.Int(i, ch)
		}
		r.chk.instant(vals)
	}
	r.frame(int64(f.Seq), f.Int(0, 0), int64(f.Count), now)
}

// frame records a frame seq whose first sample index is first.
func (r *wsRec) frame(seq, first, count int64, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.seqs); n > 0 && seq <= r.seqs[n-1].To {
		r.dupSeqs++
		return
	}
	r.seqs.add(span{seq, seq})
	if r.light {
		r.arrivals = append(r.arrivals, arrival{now, first + count})
	}
}

func (r *wsRec) text(b []byte, now time.Time) {
	var probe struct {
		Type string `json:"type"`
	}
	if r.format == "csv" && !bytes.HasPrefix(b, []byte("{")) {
		r.csv(b, now)
		return
	}
	if r.light && bytes.HasPrefix(b, jsonFramePrefix) {
		rest := b[len(jsonFramePrefix):]
		i := bytes.IndexByte(rest, ',')
		seq := atoi64(string(rest[:max(i, 0)]))
		r.frame(seq, seq*r.fs, r.fs, now)
		return
	}
	if json.Unmarshal(b, &probe) != nil {
		r.addOther(string(b))
		return
	}
	if probe.Type == wsproto.TypeFrame {
		r.jsonFrame(b, now)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	switch probe.Type {
	case wsproto.TypeHello:
		err = appendJSON(&r.hellos, b)
	case wsproto.TypeGap:
		err = appendJSON(&r.gaps, b)
	case wsproto.TypeStatus:
		err = appendJSON(&r.statuses, b)
	case wsproto.TypeError:
		err = appendJSON(&r.errs, b)
	case wsproto.TypeInfo, wsproto.TypeLog, wsproto.TypeReply:
	default:
		r.other = append(r.other, string(b))
	}
	if err != nil {
		r.other = append(r.other, "undecodable "+probe.Type+": "+err.Error())
	}
}

// appendJSON decodes b into a new element of *list (appended even if b
// does not decode, as the message did arrive).
func appendJSON[T any](list *[]T, b []byte) error {
	var v T
	err := json.Unmarshal(b, &v)
	*list = append(*list, v)
	return err
}

func (r *wsRec) jsonFrame(b []byte, now time.Time) {
	var f struct {
		Seq     uint32    `json:"seq"`
		Samples [][]int64 `json:"samples"` // [channel][instant]
	}
	if err := json.Unmarshal(b, &f); err != nil || len(f.Samples) == 0 {
		r.addOther("bad json frame: " + errString(err))
		return
	}
	n := len(f.Samples[0])
	r.chk.channels(f.Samples)
	r.frame(int64(f.Seq), f.Samples[0][0], int64(n), now)
}

var jsonFramePrefix = []byte(`{"type":"frame","seq":`)

func (r *wsRec) csv(b []byte, now time.Time) {
	if r.light {
		i := bytes.IndexAny(b, ",\n")
		first := atoi64(string(b[:max(i, 0)]))
		r.frame(first/r.fs, first, int64(bytes.Count(b, []byte{'\n'})), now)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	first := int64(-1)
	for _, l := range lines {
		if first < 0 {
			v, _, _ := strings.Cut(l, ",")
			first = atoi64(v)
		}
		r.chk.line([]byte(l))
	}
	r.frame(first/r.fs, first, int64(len(lines)), now)
}

func (r *wsRec) addOther(s string) {
	r.mu.Lock()
	r.other = append(r.other, s)
	r.mu.Unlock()
}

func (r *wsRec) close() {
	r.cancel()
	r.conn.CloseNow()
	<-r.done
}

// ended reports whether the connection has ended, and why.
func (r *wsRec) ended() (bool, error) {
	select {
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return true, r.err
	default:
		return false, nil
	}
}

// closeStatus waits up to d for the connection to end and returns the
// close status serve sent (-1 if none).
func (r *wsRec) closeStatus(t testing.TB, d time.Duration) (websocket.StatusCode, string) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		t.Fatalf("%s client still connected after %v", r.format, d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var ce websocket.CloseError
	if errors.As(r.err, &ce) {
		return ce.Code, ce.Reason
	}
	return -1, errString(r.err)
}

// waitSeq waits until the client has received frame seq or later. It
// fails when d passes without a new frame (or after 10 d in all): a client
// that keeps receiving on a loaded machine is slow, not broken.
func (r *wsRec) waitSeq(t testing.TB, seq int64, d time.Duration) {
	t.Helper()
	start := time.Now()
	deadline, progress := start.Add(d), int64(-1)
	for {
		r.mu.Lock()
		n := len(r.seqs)
		last := int64(-1)
		if n > 0 {
			last = r.seqs[n-1].To
		}
		r.mu.Unlock()
		if last >= seq {
			return
		}
		if ended, err := r.ended(); ended {
			t.Fatalf("%s client ended at seq %d before %d: %v", r.format, last, seq, err)
		}
		now := time.Now()
		if last > progress {
			// still receiving: a loaded machine is slow, not broken
			deadline, progress = now.Add(d), last
		}
		if now.After(deadline) || now.Sub(start) > 10*d {
			t.Fatalf("%s client at seq %d after %v (the last %v without a new frame), want %d",
				r.format, last, now.Sub(start).Round(time.Millisecond), d, seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recState is a snapshot of what a wsRec received.
type recState struct {
	Hellos   []wsproto.Hello
	Seqs     spans
	DupSeqs  int
	Gaps     []wsproto.Gap
	Statuses []wsproto.Status
	Errs     []wsproto.Error
	Other    []string
	Counter  counterState
}

func (r *wsRec) state() recState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return recState{Hellos: append([]wsproto.Hello(nil), r.hellos...), Seqs: append(spans(nil), r.seqs...),
		DupSeqs: r.dupSeqs, Gaps: append([]wsproto.Gap(nil), r.gaps...),
		Statuses: append([]wsproto.Status(nil), r.statuses...), Errs: append([]wsproto.Error(nil), r.errs...),
		Other: append([]string(nil), r.other...), Counter: r.chk.state()}
}

// gapSpans returns the seq ranges of the gap messages with reason.
func (s recState) gapSpans(reason string) spans {
	var out spans
	for _, g := range s.Gaps {
		if g.Reason == reason {
			out = union(out, spans{{int64(g.From), int64(g.To)}})
		}
	}
	return out
}

func (s recState) countStatus(state string) int {
	n := 0
	for _, st := range s.Statuses {
		if st.State == state {
			n++
		}
	}
	return n
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// atoi64 parses a decimal integer, -1 if s is not one.
func atoi64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}
