package record

import "github.com/wsbridge/wsbridge/internal/wsproto"

// Progress is one stream's recording so far, as Options.Progress gets it:
// what a live display (serve's recorder, driven from the page) shows.
type Progress struct {
	StreamSummary               // counts so far; Files lists every file opened, the last one possibly still open
	Open          string        `json:"open"`     // the file being written, "" between files
	Epoch         wsproto.Epoch `json:"epoch"`    // the stream's epoch
	NextSeq       uint32        `json:"next_seq"` // the seq after the last frame recorded or counted lost
	SeqKnown      bool          `json:"seq_known"`
	Done          bool          `json:"done"` // the last call: every file is closed
}

// progress reports the track's state to Options.Progress, if set.
func (t *track) progress(done bool) {
	if t.o.Progress == nil {
		return
	}
	p := Progress{StreamSummary: t.sum, Epoch: t.epoch, Done: done}
	p.Files = append([]string{}, t.sum.Files...)
	if t.seg != nil {
		p.Open = t.seg.path
	}
	p.NextSeq, p.SeqKnown = t.seq.Next()
	t.o.Progress(p)
}
