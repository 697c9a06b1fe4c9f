package serve

import (
	"fmt"
	"strings"

	"github.com/wsbridge/wsbridge/internal/recordings"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// checkRecordDir checks --record-dir (created if missing, writable) and
// makes it absolute.
func checkRecordDir(o *Options) error {
	if o.RecordDir == "" {
		return nil
	}
	dir, err := recordings.CheckDir(o.RecordDir)
	if err != nil {
		return sentinel.Tag(err, ErrConfig)
	}
	o.RecordDir = dir
	return nil
}

// newRecorder is serve's recorder (--record-dir; disabled without it):
// its endpoints go on srv, its recordings read srv's own streams at base
// with the token, trusting serve's own certificate.
func newRecorder(o *Options, srv *relay.Server, base string) (*recordings.Manager, error) {
	ro := recordings.Options{Dir: o.RecordDir, Streams: relay.WSURL(base), Token: o.Relay.Token,
		Log: o.Log, Channel: func(name string) (recordings.Head, bool) {
			ch, ok := srv.Channel(name)
			if !ok {
				return recordings.Head{}, false
			}
			s := ch.Summary()
			return recordings.Head{Epoch: s.Epoch, Next: s.Seq, Valid: s.History.Frames > 0}, true
		}}
	if o.RecordDir != "" && o.Relay.TLSCert != "" {
		var err error
		if ro.TLS, err = recordings.PinCertificate(o.Relay.TLSCert, o.Relay.TLSKey); err != nil {
			return nil, sentinel.Tag(err, relay.ErrTLS)
		}
	}
	m, err := recordings.New(ro)
	if err != nil {
		return nil, sentinel.Tag(err, ErrConfig)
	}
	m.Mount(srv)
	if m.Enabled() {
		o.Log.Info().Str("dir", m.Dir()).Msg("recording from the page and the API into " + m.Dir() +
			" (POST /api/channels/NAME/record)")
	}
	return m, nil
}

// recordingsStopped is the stop line's part about the recordings that
// serve's shutdown stopped: "" when none ran.
func recordingsStopped(recs []recordings.Recording) string {
	if len(recs) == 0 {
		return ""
	}
	var parts []string
	for _, r := range recs {
		var files []string
		for _, f := range r.Files {
			files = append(files, f.Name)
		}
		state := "complete"
		if r.State == recordings.StateFailed {
			state = "failed: " + r.Error
		}
		parts = append(parts, fmt.Sprintf("%s: %d samples, %d gaps, %s %s (%s)", r.Channel, r.Samples, r.Gaps,
			plural(len(files), "file"), state, strings.Join(files, ", ")))
	}
	return fmt.Sprintf("; stopped %s in %s, files closed: %s", plural(len(recs), "recording"), recs[0].Dir, strings.Join(parts, "; "))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
