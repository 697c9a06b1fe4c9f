package relay

import "sync"

// This file lets a part of serve that is not a channel's source (the bus)
// report through a channel's and the server's metrics, /api/channels and
// /healthz, and reach a channel's device.

// attached holds counters and a health report added after construction.
type attached struct {
	mu       sync.RWMutex
	counters []func() []Counter
	health   func() any
}

func (a *attached) addCounters(f func() []Counter) {
	a.mu.Lock()
	a.counters = append(a.counters, f)
	a.mu.Unlock()
}

func (a *attached) list() []Counter {
	a.mu.RLock()
	fs := a.counters
	a.mu.RUnlock()
	var out []Counter
	for _, f := range fs {
		out = append(out, f()...)
	}
	return out
}

// AttachCounters adds f's counters to the channel's (in /metrics with
// its channel label, and in /api/channels). Safe while serving.
func (c *Channel) AttachCounters(f func() []Counter) { c.attached.addCounters(f) }

// AttachCounters adds f's counters to the server's own (in /metrics
// without a label). Safe while serving.
func (s *Server) AttachCounters(f func() []Counter) { s.attached.addCounters(f) }

// AttachBusHealth makes /healthz carry f's report under "bus". Safe while serving.
func (s *Server) AttachBusHealth(f func() any) {
	s.attached.mu.Lock()
	s.attached.health = f
	s.attached.mu.Unlock()
}

func (s *Server) busHealth() any {
	s.attached.mu.RLock()
	f := s.attached.health
	s.attached.mu.RUnlock()
	if f == nil {
		return nil
	}
	return f()
}

// Command writes line to the channel's device, as a client's command
// does; ErrNoDevice when the channel has no commander. The caller decides
// whether commands are allowed (AllowsCommands).
func (c *Channel) Command(line string) error {
	if c.cmd == nil {
		return ErrNoDevice
	}
	return c.cmd.Command(line)
}

// AllowsCommands reports whether this server forwards commands to devices
// (--allow-commands).
func (s *Server) AllowsCommands() bool { return s.commandPolicy() == nil }

// IsMirror reports whether the channel mirrors one served elsewhere.
func (c *Channel) IsMirror() bool { return c.mirror != nil }

// History is the sample time the channel's ring keeps.
func (c *Channel) History() int64 { return c.hub.maxDur }
