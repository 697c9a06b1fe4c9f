package frame

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/wsbridge/wsbridge/internal/ratelimit"
)

// Device text in a text stream (lines starting with "#" that are not
// replies, and lines that are not numbers) becomes log messages, at most
// TextLogRate a second on average with bursts of up to TextLogBurst (a
// sketch's boot banner): a sketch that prints "Temp: 21.5 C" a thousand
// times a second would otherwise send every client a thousand log
// messages a second. The lines held back are counted in
// Stats.LogsSuppressed and said in a log message of their own once a
// second ("wsbridge: N lines of device text ... not forwarded"). Replies
// ("# ok", "# err") are never held back.
const (
	TextLogRate  = 10
	TextLogBurst = 20
)

// logLimit is a token bucket over the log lines of one text stream, with
// the lines it held back since it last said so.
type logLimit struct {
	bucket ratelimit.Bucket // TextLogRate a second, bursts of TextLogBurst
	held   uint64           // lines held back and not yet reported
	since  time.Time        // when the first of them arrived
}

// allow reports whether a log line arriving at now is forwarded; if not,
// it is counted as held back.
func (l *logLimit) allow(now time.Time) bool {
	if l.bucket.Allow(now) {
		return true
	}
	if l.held == 0 {
		l.since = now
	}
	l.held++
	return false
}

// due returns the lines held back, and over how long, once a second has
// passed since the first of them (then the count starts again).
func (l *logLimit) due(now time.Time) (n uint64, over time.Duration, ok bool) {
	if l.held == 0 || now.Sub(l.since) < time.Second {
		return 0, 0, false
	}
	n, over = l.held, now.Sub(l.since)
	l.held = 0
	return n, over, true
}

// emitText handles a line that starts with "#": a reply ("# ok ...",
// "# err ...") or device log text.
func (t *TextDecoder) emitText(l []byte) {
	var err error
	switch {
	case bytes.HasPrefix(l, []byte("ok")):
		t.enc, err = AppendReply(t.enc[:0], ReplyOK, bytes.TrimSpace(l[2:]))
	case bytes.HasPrefix(l, []byte("err")):
		t.enc, err = AppendReply(t.enc[:0], ReplyError, bytes.TrimSpace(l[3:]))
	default:
		t.emitLog(l)
		return
	}
	if err == nil {
		t.emit()
	}
}

// emitNonNumeric passes a line that is not numbers on as a log message if
// it is printable UTF-8 (a sketch's "boot ok", "Temp: 21 °C"), else
// counts it as noise (line garbage, a boot log at the wrong baud).
func (t *TextDecoder) emitNonNumeric(l []byte) {
	if !printable(l) {
		t.stats.NoiseBytes += uint64(len(l))
		return
	}
	t.emitLog(bytes.TrimSpace(l))
}

// emitLog passes device text on as a log message, within the rate limit.
func (t *TextDecoder) emitLog(text []byte) {
	t.reportHeld(t.now)
	if !t.logs.allow(t.now) {
		t.stats.LogsSuppressed++
		return
	}
	t.emitLogText(text)
}

// reportHeld says, once a second, how many lines of device text the rate
// limit held back.
func (t *TextDecoder) reportHeld(now time.Time) {
	n, over, ok := t.logs.due(now)
	if !ok {
		return
	}
	t.emitLogText(fmt.Appendf(nil, "wsbridge: %d more lines of device text in the last %.1fs were not forwarded "+
		"(text input forwards at most %d a second, bursts of %d)", n, over.Seconds(), TextLogRate, TextLogBurst))
}

func (t *TextDecoder) emitLogText(text []byte) {
	var err error
	if t.enc, err = AppendLog(t.enc[:0], text); err == nil {
		t.emit()
	}
}

// printable reports whether l is valid UTF-8 without control characters
// other than tab.
func printable(l []byte) bool {
	for _, c := range l {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	if !utf8.Valid(l) {
		return false
	}
	for len(l) > 0 { // C1 controls (U+0080..U+009F) are garbage too
		r, size := utf8.DecodeRune(l)
		if r >= 0x80 && r <= 0x9f {
			return false
		}
		l = l[size:]
	}
	return true
}
