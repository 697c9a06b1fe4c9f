package sink

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
	"github.com/wsbridge/wsbridge/internal/wsclient"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// Inputs (--input): what a server that sends no hello (a board's own
// WebSocket server, as in the ESP32 tutorials) is read as. A server that
// starts with a hello is a wsbridge serve whatever --input says.
const (
	InputAuto = ingest.InputAuto // per message: binary v1, JSON objects of numbers, or text lines
	InputV1   = ingest.InputV1   // binary v1 packets without COBS
	InputText = ingest.InputText // text lines: 1234, 1,2, a:1,b:2
	InputJSON = ingest.InputJSON // JSON such as {"value": 1234} or {"a": 1, "b": 2}
)

// notDeviceAfter is how many refused messages in a row, with no data
// before them, make a server that sent no hello "not a device": the sink
// then stops, as for any server that will never work.
const notDeviceAfter = 20

// serveDevice reads a server that sent no hello: a board's own WebSocket
// server. Its messages go through the ingest decoder (the same as serve's
// ingest) and the values into the port. Without serve there are no
// sequence numbers for text and JSON: what the board sent while the sink
// was disconnected is lost and cannot be counted.
func (s *Sink) serveDevice(ctx context.Context, cn *wsclient.Conn) error {
	n := s.st.connections.Add(1)
	s.deviceMode.Store(true)
	if n == 1 {
		s.log.Info().Str("input", s.o.Input).Str("url", s.o.shownURL()).
			Msg("connected to a board's own WebSocket server (no wsbridge hello): its values go into the port; " +
				"text and JSON carry no sequence numbers, so values lost between the board and the sink cannot be counted")
	} else {
		s.log.Warn().Uint64("connection", n).Dur("disconnected_for", time.Since(s.lastDown).Round(time.Millisecond)).
			Msg("reconnected to the board: what it sent while disconnected is lost and, without sequence numbers, not counted")
	}
	s.dev.Reset()
	s.st.setConnected(true, time.Now())
	defer func() { s.st.setConnected(false, time.Now()); s.lastDown = time.Now() }()
	var buf bytes.Buffer
	refused, data := 0, false
	for {
		typ, err := cn.Read(&buf)
		if err != nil {
			return err
		}
		err = s.dev.Decode(typ == websocket.MessageBinary, buf.Bytes(), func(p *frame.Packet) {
			data = data || p.Type == frame.TypeData
			s.onDevicePacket(ctx, p)
		})
		if err == nil {
			refused = 0
			continue
		}
		s.st.badPackets.Add(1)
		s.stream.warn("bad_message").Err(err).Int("bytes", buf.Len()).Msg("ignoring a message from the board")
		if refused++; !data && refused >= notDeviceAfter {
			return notADevice(s.o.shownURL(), err)
		}
	}
}

// notADevice is the error that ends the sink for a server that sends
// neither a hello nor anything a device sends.
func notADevice(url string, last error) error {
	var me *ingest.MessageError
	why := last.Error()
	if errors.As(last, &me) {
		why = me.Msg
	}
	return &wsclient.Error{Kind: wsclient.ErrNotWsbridge, Err: last,
		Msg: url + " is neither a wsbridge serve (no hello) nor a board sending values: " + strconv.Itoa(notDeviceAfter) +
			" messages in a row were refused (last: " + why + "); check --url and --input"}
}

// onDevicePacket takes one packet the decoder made of a board's message.
func (s *Sink) onDevicePacket(ctx context.Context, p *frame.Packet) {
	switch p.Type {
	case frame.TypeData:
		s.stream.onFrame(ctx, p)
	case frame.TypeInfo:
		d := wsproto.DeviceFromInfo(&p.Info)
		s.stream.onDevice(ctx, &d)
	case frame.TypeLog:
		s.lim.event(s.log, zerolog.InfoLevel, "device_log").Str("text", string(p.Text)).Msg("device log")
	case frame.TypeReply:
		s.onReply(ctx, p.Status == frame.ReplyOK, string(p.Text))
	}
}

// sendCommand sends a line written into the port: to serve as a command
// message, or to a board as the text line itself.
func (s *Sink) sendCommand(ctx context.Context, line string) error {
	if !s.deviceMode.Load() {
		return s.client.Send(ctx, wsproto.Command{Type: wsproto.TypeCommand, Line: line})
	}
	cn := s.client.Current()
	if cn == nil {
		return wsclient.ErrNotConnected
	}
	return cn.Write(ctx, websocket.MessageText, []byte(line))
}
