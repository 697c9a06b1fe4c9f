package relay

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/wsconn"
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
// wsconn.DeadAfter ping intervals. Signs of life: connecting, any pong
// (even a late one, queued behind frames the client is still reading),
// and a write that completed after waiting for the client to make room.
func (c *client) liveLoop(ctx context.Context) {
	iv := c.srv.opts.PingInterval
	silent, dead := wsconn.Watch(ctx, iv, func() time.Time {
		return wsconn.Latest(c.connected, c.flow.LastPong(), c.cork.Unblocked())
	})
	if !dead {
		return
	}
	c.ch.stats.pingTimeouts.Add(1)
	c.log.Info().Dur("silent", silent).Dur("ping_interval", iv).Msg("client did not answer pings: dropped")
	_ = c.conn.CloseNow()
}
