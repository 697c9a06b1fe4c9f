package recordings

import (
	"errors"
	"fmt"

	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// Sentinel errors; the HTTP endpoints map each to a status.
var (
	ErrDisabled     = errors.New("recording is disabled")            // 403: serve runs without --record-dir
	ErrNoChannel    = errors.New("no such channel")                  // 404
	ErrNotRecording = errors.New("the channel is not recording")     // 404
	ErrBadRequest   = errors.New("invalid recording request")        // 400
	ErrBusy         = errors.New("the channel is recording already") // 409 (*BusyError)
	ErrClosing      = errors.New("serve is stopping")                // 503
	ErrDir          = errors.New("invalid --record-dir")             // serve's configuration
)

// HowToEnable says how to turn the recorder on.
const HowToEnable = "recording on the server is off: start serve with --record-dir DIR (or record-dir: in its config file) " +
	"to record channels into DIR from the page or the API (docs/record.md, \"From the page\")"

var errDisabled = sentinel.Errorf(ErrDisabled, "%s", HowToEnable)

// BusyError is a start refused because the channel records already.
type BusyError struct {
	Running Recording
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("channel %q is already recording (%s, started %s): stop it first (DELETE /api/channels/%s/record, or the page's stop button)",
		e.Running.Channel, e.Running.ID, e.Running.StartedAt.Format("15:04:05 UTC"), e.Running.Channel)
}

func (e *BusyError) Unwrap() error { return ErrBusy }
