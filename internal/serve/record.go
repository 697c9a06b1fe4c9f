package serve

import (
	"os"
	"path/filepath"

	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// Recorder is serve's recorder (internal/recordings, which the CLI wires
// in through Options.Recorder: serve cannot import it, record's own tests
// run serve): its endpoints are on the relay, and Shutdown, called before
// the streams close, stops every recording with its files complete and
// says so for the stop line.
type Recorder interface {
	Shutdown() (stopped int, summary string)
}

// noRecorder is the Recorder of a serve built without one.
type noRecorder struct{}

func (noRecorder) Shutdown() (int, string) { return 0, "" }

// checkRecordDir checks --record-dir: created if missing, writable, made
// absolute.
func checkRecordDir(o *Options) error {
	if o.RecordDir == "" {
		return nil
	}
	if o.Recorder == nil {
		return sentinel.Errorf(ErrConfig, "--record-dir: this build of serve has no recorder")
	}
	dir, err := filepath.Abs(o.RecordDir)
	if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
		return sentinel.Errorf(ErrConfig, "--record-dir %s is a file, not a directory", o.RecordDir)
	}
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		var f *os.File
		if f, err = os.CreateTemp(dir, ".wsbridge-check-*"); err == nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if err != nil {
		return sentinel.Errorf(ErrConfig, "--record-dir %s: cannot record there: %w", o.RecordDir, err)
	}
	o.RecordDir = dir
	return nil
}

// newRecorder makes the recorder once serve listens at base.
func newRecorder(o *Options, srv *relay.Server, base string) (Recorder, error) {
	if o.Recorder == nil {
		return noRecorder{}, nil
	}
	return o.Recorder(srv, relay.WSURL(base))
}
