package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ackSub receives a publisher's acks: the server answers each publish on
// its own reply subject <inbox>.<token>, tokens counting up from 1 in
// publishing order. The subscription delivers into a Go channel straight
// from the connection's reader (no goroutine in between), which the
// publisher reads when it looks: an ack costs no wake-up of its own while
// the window has room. One per publishing session, so acks to an earlier
// session's publishes never arrive. Owned by the publisher's goroutine.
type ackSub struct {
	sub    *nats.Subscription
	ch     chan *nats.Msg
	prefix string // "<inbox>."
	tok    uint64 // the newest token handed out
}

// subscribeAcks opens an ack subscription for one publishing session.
func (c *Conn) subscribeAcks() (*ackSub, error) {
	a := &ackSub{prefix: c.nc.NewInbox() + ".",
		// Every ack answers a publish of this session, at most Inflight
		// awaiting one: the channel never fills (a full one would drop
		// an ack, which then times out and resyncs, as a lost one does).
		ch: make(chan *nats.Msg, 2*c.cfg.Inflight+16)}
	var err error
	if a.sub, err = c.nc.ChanSubscribe(a.prefix+"*", a.ch); err != nil {
		return nil, fmt.Errorf("failed to subscribe to the publish acks: %w", err)
	}
	return a, nil
}

func (a *ackSub) next() uint64 {
	a.tok++
	return a.tok
}

func (a *ackSub) reply(tok uint64) string { return a.prefix + strconv.FormatUint(tok, 10) }

// token is the token of an ack's subject.
func (a *ackSub) token(subject string) (uint64, bool) {
	if len(subject) <= len(a.prefix) || subject[:len(a.prefix)] != a.prefix {
		return 0, false
	}
	tok, err := strconv.ParseUint(subject[len(a.prefix):], 10, 64)
	return tok, err == nil
}

func (a *ackSub) close() { _ = a.sub.Unsubscribe() }

// The server's answer to a publish (nats-server's JSPubAckResponse).
type pubAckResponse struct {
	Error     *jetstream.APIError `json:"error,omitempty"`
	Stream    string              `json:"stream"`
	Duplicate bool                `json:"duplicate,omitempty"`
}

var (
	ackStart = []byte(`{"stream":"`)
	ackError = []byte(`"error":`)
	ackDup   = []byte(`"duplicate":true`)
)

// parseAck reads the server's answer to a publish: stored (dup: it was
// already, under the same Nats-Msg-Id) or the error. A stored message's
// ack, by far the most frequent, is recognised without decoding its JSON
// (the server writes it compact, "stream" first; a quote inside a string
// is escaped, so the keys looked for cannot be faked by a value).
func parseAck(m *nats.Msg) (dup bool, err error) {
	d := m.Data
	if len(d) == 0 && m.Header.Get("Status") == "503" {
		return false, jetstream.ErrNoStreamResponse // no stream takes the subject (yet: a leader election)
	}
	if bytes.HasPrefix(d, ackStart) && !bytes.Contains(d, ackError) {
		return bytes.Contains(d, ackDup), nil
	}
	var r pubAckResponse
	if err := json.Unmarshal(d, &r); err != nil {
		return false, fmt.Errorf("%w: %q", jetstream.ErrInvalidJSAck, d)
	}
	if r.Error != nil {
		return false, r.Error
	}
	if r.Stream == "" {
		return false, fmt.Errorf("%w: %q", jetstream.ErrInvalidJSAck, d)
	}
	return r.Duplicate, nil
}
