package relay

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/periodic"
	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// readLoop reads client messages until the connection ends. Reading also
// processes pongs and the peer's close. Oversize messages make the
// library close the connection with 1009.
func (c *client) readLoop() {
	c.conn.SetReadLimit(wsproto.MaxClientMessage)
	for {
		typ, data, err := c.conn.Read(context.Background())
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				c.ch.stats.oversize.Add(1)
				c.log.Warn().Int("limit", wsproto.MaxClientMessage).Msg("client message too big: closed with 1009")
			}
			return
		}
		c.ch.stats.clientMessages.Add(1)
		c.handle(typ, data)
	}
}

// handle answers one client message.
func (c *client) handle(typ websocket.MessageType, data []byte) {
	if typ == websocket.MessageBinary {
		c.send(wsproto.Error{Type: wsproto.TypeError, Code: wsproto.ErrBinary,
			Message: `binary messages are not accepted from clients: send JSON text, e.g. {"type":"command","line":"info"}`})
		return
	}
	cmd, err := wsproto.ParseClientMessage(data)
	if err != nil {
		var pe *wsproto.ParseError
		if errors.As(err, &pe) {
			c.send(pe.Reply())
		}
		return
	}
	if c.cmdDenied != nil {
		c.send(*c.cmdDenied)
		return
	}
	cmdr := c.ch.cmd
	if cmdr == nil {
		c.send(wsproto.Error{Type: wsproto.TypeError, Code: wsproto.ErrDeviceDown, Message: "no device to send commands to"})
		return
	}
	if err := cmdr.Command(cmd.Line); err != nil {
		c.send(wsproto.Error{Type: wsproto.TypeError, Code: wsproto.ErrDeviceDown, Message: "failed to send command: " + err.Error()})
		return
	}
	c.ch.stats.commands.Add(1)
	c.log.Info().Str("line", cmd.Line).Msg("command forwarded to the device")
}

// liveLoop drops the client when it has shown no sign of life for
// deadAfter ping intervals. Signs of life: any pong (even a late one,
// queued behind frames the client is still reading), and a write that
// completed after waiting for the client to make room.
func (c *client) liveLoop(ctx context.Context) {
	iv := c.srv.opts.PingInterval
	periodic.Every(ctx, iv, nil, func() bool {
		silent := time.Since(c.lastSign())
		if silent <= deadAfter*iv {
			return true
		}
		c.ch.stats.pingTimeouts.Add(1)
		c.log.Info().Dur("silent", silent).Dur("ping_interval", iv).Msg("client did not answer pings: dropped")
		_ = c.conn.CloseNow()
		return false
	})
}

// deadAfter is how many ping intervals without a sign of life make a
// client dead.
const deadAfter = 2

// lastSign is the latest sign of life: connect, a pong, or a write that
// waited for the client to read.
func (c *client) lastSign() time.Time {
	return time.Unix(0, max(c.connected.UnixNano(), c.flow.lastPong.Load(), c.cork.unblocked.Load()))
}
