package wsconn

import "github.com/wsbridge/wsbridge/internal/pollio"

// fdReader is idle mode's raw reader (rawIO): internal/pollio's
// non-blocking TryRead and its WaitReadable.
type fdReader struct{ fd *pollio.FD }

// tryRead reads once without waiting: errWouldBlock when nothing is there.
func (r fdReader) tryRead(p []byte) (int, error) {
	n, err := r.fd.TryRead(p)
	if err == pollio.ErrWouldBlock {
		err = errWouldBlock
	}
	return n, err
}

// wait parks until the descriptor is readable (data, the peer's end or an
// error).
func (r fdReader) wait() error { return r.fd.WaitReadable() }
