package capture

import (
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/source"
)

// input turns the bytes read into packets: it runs auto detection, then
// the frame or text decoder. Owned by the port goroutine.
type input struct {
	chosen string // InputFrames or InputText; "" while detecting
	pub    source.Publisher
	log    zerolog.Logger
	fdec   *frame.Decoder
	tdec   *frame.TextDecoder
	det    detector
}

func newInput(o Options, pub source.Publisher, log zerolog.Logger) *input {
	in := &input{pub: pub, log: log}
	in.fdec = frame.NewDecoder(pub.Packet) // every frame as read: the channel follows the seqs
	in.tdec = frame.NewTextDecoder(pub.Packet)
	in.tdec.FrameSamples, in.tdec.Rate = o.FrameSamples, o.TextRate
	in.tdec.ConfirmLines = frame.SerialConfirmLines
	if o.Input != InputAuto {
		in.chosen = o.Input
	}
	return in
}

// timeout is how long a read may wait: short while detection is
// watching, longer once the input is known (nothing waits for a timeout
// then: text frames end with each read).
func (in *input) timeout() time.Duration {
	if in.chosen == "" {
		return detectQuiet
	}
	return framesTimeout
}

// feed decodes the bytes of one read. Text input ends a frame when they
// are used up: a line leaves at once, whatever the rate, and at high rates
// a read brings many lines and frames still fill up (to
// --text-frame-samples lines).
func (in *input) feed(p []byte, now time.Time) {
	switch in.chosen {
	case InputFrames:
		in.fdec.Write(p)
	case InputText:
		in.tdec.Write(p)
		in.tdec.Flush()
	default:
		in.det.add(p, now)
		in.decide(now)
	}
}

// idle is called when a read timed out: the line has been quiet. Text
// input then says how many lines of device text its rate limit held back
// (Flush), if that is due: a sketch that flooded and went quiet.
func (in *input) idle(now time.Time) {
	switch in.chosen {
	case "":
		in.decide(now)
	case InputText:
		in.tdec.Flush()
	}
}

func (in *input) decide(now time.Time) {
	m, why := in.det.decide(now)
	if m == "" {
		return
	}
	in.chosen = m
	in.log.Info().Str("input", m).Str("evidence", why).Msg("input detected")
	held := in.det.buf
	in.det = detector{}
	in.feed(held, now)
}

// flush emits pending text samples (before the device is reported down).
func (in *input) flush() {
	if in.chosen == InputText {
		in.tdec.Flush()
	}
}

// resync drops partial packets and lines after a reopen.
func (in *input) resync() {
	in.fdec.Resync()
	in.tdec.Resync()
}

func (in *input) stats() (frame.Stats, string) {
	return in.fdec.Stats().Add(in.tdec.Stats()), in.chosen
}

func pathExists(path string) bool {
	_, err := os.Stat(path)
	return !os.IsNotExist(err)
}
