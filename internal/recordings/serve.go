package recordings

import (
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// ServeConfig is what serve's recorder is made from: serve's flags.
type ServeConfig struct {
	Dir             string // --record-dir; "" mounts the endpoints disabled
	Token           string // --token
	TLSCert, TLSKey string // --tls-cert, --tls-key: the recorder trusts exactly this certificate
	Log             zerolog.Logger
}

// ForServe makes serve's recorder: its endpoints go on srv (Mount), its
// recordings read srv's own streams (streams is ws://HOST:PORT/ws from
// relay.WSURL) with serve's token. serve calls it once it listens (the CLI
// passes it as serve.Options.Recorder).
func ForServe(srv *relay.Server, streams string, c ServeConfig) (*Manager, error) {
	o := Options{Dir: c.Dir, Streams: streams, Token: c.Token, Log: c.Log, Channel: heads(srv)}
	if c.Dir != "" && c.TLSCert != "" {
		var err error
		if o.TLS, err = PinCertificate(c.TLSCert, c.TLSKey); err != nil {
			return nil, sentinel.Tag(err, relay.ErrTLS)
		}
	}
	m, err := New(o)
	if err != nil {
		return nil, err
	}
	m.Mount(srv)
	if m.Enabled() {
		c.Log.Info().Str("dir", m.Dir()).Msg("recording from the page and the API into " + m.Dir() +
			" (POST /api/channels/NAME/record)")
	}
	return m, nil
}

// heads is Options.Channel for srv's channels.
func heads(srv *relay.Server) func(name string) (Head, bool) {
	return func(name string) (Head, bool) {
		ch, ok := srv.Channel(name)
		if !ok {
			return Head{}, false
		}
		s := ch.Summary()
		return Head{Epoch: s.Epoch, Next: s.Seq, Valid: s.History.Frames > 0}, true
	}
}

// Shutdown is Close for serve's stop line: how many recordings it
// stopped, and what to add to the line ("" when none ran).
func (m *Manager) Shutdown() (int, string) {
	recs := m.Close()
	if len(recs) == 0 {
		return 0, ""
	}
	var parts []string
	for _, r := range recs {
		state := "complete"
		if r.State == StateFailed {
			state = "failed: " + r.Error
		}
		parts = append(parts, fmt.Sprintf("%s: %d samples, %d gaps, %s %s (%s)", r.Channel, r.Samples, r.Gaps,
			plural(len(r.Files), "file"), state, strings.Join(names(r.Files), ", ")))
	}
	return len(recs), fmt.Sprintf("; stopped %s in %s, files closed: %s", plural(len(recs), "recording"), recs[0].Dir, strings.Join(parts, "; "))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
