package sink

import (
	"fmt"
	"math"
)

// checkBudget warns, for a real port, when the output needs more bytes per
// second than the baud rate carries (8N1: baud/10 bytes/s).
func (s *Sink) checkBudget(p params, bytesPerInstant float64) {
	if s.info.Virtual || p.Rate == 0 {
		return
	}
	if msg, over := budgetMessage(s.o, p, bytesPerInstant); over {
		s.log.Warn().Uint32("rate", p.Rate).Int("baud", s.o.Baud).Msg(msg)
	}
}

// budgetMessage compares the output byte rate with the port's capacity and
// says what to change. bytesPerInstant is measured on the output of one
// frame (already decimated).
func budgetMessage(o *Options, p params, bytesPerInstant float64) (string, bool) {
	capacity := float64(o.Baud) / 10
	need := bytesPerInstant * float64(p.Rate)
	if need <= capacity {
		return "", false
	}
	undeliverable := 1 - capacity/need
	dec := o.Decimate * int(math.Ceil(need/capacity))
	rawNeed := float64(p.Rate) * float64(int(p.Channels)*p.SampleType.Size()) * 1.02
	msg := fmt.Sprintf("%s output needs %.1f kB/s (%d Hz x %.1f bytes per sample instant) but %d baud carries %.1f kB/s: "+
		"about %.0f%% of the data cannot be delivered and will be dropped (counted); use a higher --baud (at least %d), "+
		"--decimate %d, or --format raw (about %.1f kB/s)",
		o.Format, need/1000, p.Rate, bytesPerInstant, o.Baud, capacity/1000, undeliverable*100,
		int(math.Ceil(need*10)), dec, rawNeed/1000)
	return msg, true
}
