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
// library close the connection with 1009. Between messages it waits in
// the connection's idle mode (wsconn.ErrIdle): a shallow stack.
func (c *client) readLoop() {
	c.conn.SetReadLimit(wsproto.MaxClientMessage)
	c.cork.AllowIdle(true)
	for {
		typ, data, err := c.conn.Read(context.Background())
		if errors.Is(err, wsconn.ErrIdle) {
			if c.cork.WaitRead() != nil {
				return
			}
			continue
		}
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

// lastSign is the client's latest sign of life besides pongs (the Flow
// sees those): connecting, and a write that completed after waiting for
// the client to make room (it is reading, however slowly, even if its
// pong is still queued behind frames it has yet to read).
func (c *client) lastSign() time.Time {
	return wsconn.Latest(c.connected, c.cork.Unblocked())
}

// dead drops the client: it showed no sign of life for
// wsconn.DeadAfter ping intervals.
func (c *client) dead(silent time.Duration) {
	c.ch.stats.pingTimeouts.Add(1)
	c.log.Info().Dur("silent", silent).Dur("ping_interval", c.srv.opts.PingInterval).Msg("client did not answer pings: dropped")
	_ = c.conn.CloseNow()
}
