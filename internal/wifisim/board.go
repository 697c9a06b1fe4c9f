package wifisim

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/faultproxy"
	"github.com/wsbridge/wsbridge/internal/frame"
	"github.com/wsbridge/wsbridge/internal/ingest"
)

// maxIncoming is the largest message arduinoWebSockets takes
// (WEBSOCKETS_MAX_DATA_SIZE on an ESP32).
const maxIncoming = 15 * 1024

// liveQueue bounds the messages that wait for the link outside the ring
// (logs and replies; text and JSON frames), like AsyncWebSocket's 32.
const liveQueue = 32

// ErrConfig marks errors in Options.
var ErrConfig = errors.New("bad settings")

// Stats are a board's exact counters.
type Stats struct {
	Connects        uint64 `json:"connects"`         // connections that got a greeting
	ConnectFailures uint64 `json:"connect_failures"` // dials, handshakes or greetings that failed
	Disconnects     uint64 `json:"disconnects"`      // connections lost after the greeting
	ResumeGaps      uint64 `json:"resume_gaps"`      // reconnects after a drop longer than the ring
	// Overrun: frames the ring overwrote before they were sent while
	// connected (the link slower than the sampler), a part of
	// Ring.Overwritten. Ring.Overwritten + Ring.Lost (frames sent into a
	// connection that dropped, no longer held at the resume) is every
	// frame serve never got, each counted once.
	Overrun     uint64            `json:"overrun"`
	Commands    uint64            `json:"commands"`     // command lines received
	LiveDropped uint64            `json:"live_dropped"` // logs, replies or text/JSON frames dropped while the link was down or slow
	LiveSent    uint64            `json:"live_sent"`    // text/JSON frames, logs and replies sent
	Epoch       string            `json:"epoch"`        // from the last greeting
	LastError   string            `json:"last_error"`   // why the last connection ended
	Ring        ingest.RingStats  `json:"ring"`
	Device      adcsim.Stats      `json:"device"`
	Proxy       *faultproxy.Stats `json:"proxy,omitempty"` // with faults
}

// Board is a simulated Wi-Fi board. Run it once; Stats and Connected are
// safe to call at any time, from any goroutine.
type Board struct {
	opts  Options
	ring  *ingest.Ring
	dev   *adcsim.Device
	proxy atomic.Pointer[faultproxy.Proxy] // with faults

	wake      chan struct{} // a frame went into the ring
	live      chan []byte   // messages that are not ring frames, in order
	connected atomic.Bool
	info      atomic.Pointer[frame.Packet] // the newest device info
	names     atomic.Pointer[[]string]     // its channel names, for text and JSON

	mu     sync.Mutex
	stats  Stats
	owBase uint64 // the ring's Overwritten when the current connection began
	owLive bool   // a connection is up: overwrites now are overruns
}

// New validates opts and builds a board.
func New(opts Options) (*Board, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if opts.Boot == "" {
		var b [4]byte
		rand.Read(b[:])
		opts.Boot = hex.EncodeToString(b[:])
	}
	dev, err := adcsim.NewDevice(opts.Device)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	b := &Board{opts: opts, dev: dev, wake: make(chan struct{}, 1), live: make(chan []byte, liveQueue)}
	if opts.Format == FormatV1 {
		b.ring = ingest.NewRing(opts.RingBytes)
	}
	return b, nil
}

// Boot is the board's boot id.
func (b *Board) Boot() string { return b.opts.Boot }

// Connected reports whether the board has a greeted connection now.
func (b *Board) Connected() bool { return b.connected.Load() }

// Stats returns the counters.
func (b *Board) Stats() Stats {
	b.mu.Lock()
	s := b.stats
	if b.ring != nil {
		s.Ring = b.ring.Stats()
		if b.owLive {
			s.Overrun += s.Ring.Overwritten - b.owBase
		}
	}
	b.mu.Unlock()
	s.Device = b.dev.Stats()
	if p := b.proxy.Load(); p != nil {
		ps := p.Stats()
		s.Proxy = &ps
	}
	return s
}

func (b *Board) count(f func(s *Stats)) {
	b.mu.Lock()
	f(&b.stats)
	b.mu.Unlock()
}

// Run powers the board on and runs it until ctx ends; it returns nil then,
// or an error if the simulated device fails.
func (b *Board) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if b.opts.Faults.Any() {
		if err := b.startFaults(ctx); err != nil {
			return err
		}
		defer b.proxy.Load().Close()
	}
	host, devEnd := pipe()
	devErr := make(chan error, 1)
	go func() { devErr <- b.dev.Run(ctx, devEnd); devEnd.Close() }()
	defer host.Close()
	go b.produce(host)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); b.connectLoop(ctx, host) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-devErr:
		if err != nil {
			err = fmt.Errorf("simulated device: %w", err)
		}
		cancel()
	}
	wg.Wait()
	return err
}

// produce reads the simulated device's serial stream, as the firmware's
// sampler makes frames: data frames go into the ring (v1) or out as
// text/JSON; info, logs and replies go out live.
func (b *Board) produce(port io.Reader) {
	dec := frame.NewDecoder(b.packet)
	buf := make([]byte, 32<<10)
	for {
		n, err := port.Read(buf)
		dec.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

func (b *Board) packet(p *frame.Packet) {
	switch {
	case p.Type == frame.TypeInfo:
		c := p.Clone()
		b.info.Store(&c)
		names := make([]string, p.Info.Channels)
		for i := range names {
			names[i] = fmt.Sprintf("ch%d", i)
			if i < len(p.Info.ChannelInfo) && p.Info.ChannelInfo[i].Name != "" {
				names[i] = p.Info.ChannelInfo[i].Name
			}
		}
		b.names.Store(&names)
		if b.opts.Format == FormatV1 && b.connected.Load() { // otherwise it goes after the next greeting
			b.sendLive(c.Raw)
		}
	case p.Type == frame.TypeData && b.opts.Format == FormatV1:
		raw := p.Raw
		if b.opts.Stamp != nil {
			raw = stamp(raw, b.opts.Stamp(&p.Frame))
		}
		if b.ring.Put(raw) == nil {
			select {
			case b.wake <- struct{}{}:
			default:
			}
		}
	case b.opts.Format == FormatV1: // log, reply
		b.sendLive(append([]byte(nil), p.Raw...))
	default:
		b.sendLive(render(p, b.opts.Format, b.names.Load()))
	}
}

// sendLive queues a message that is not a ring frame; while the link is
// down or the queue full it is dropped and counted, as the libraries do.
func (b *Board) sendLive(msg []byte) {
	if msg == nil {
		return
	}
	if b.connected.Load() {
		select {
		case b.live <- msg:
			return
		default:
		}
	}
	b.count(func(s *Stats) { s.LiveDropped++ })
}

// stamp sets a data packet's t_dev_us (in place) and its CRC.
func stamp(pkt []byte, us uint64) []byte {
	binary.LittleEndian.PutUint64(pkt[frame.PrefixSize+4:], us)
	n := len(pkt) - frame.CRCSize
	binary.LittleEndian.PutUint32(pkt[n:], frame.Checksum(pkt[:n]))
	return pkt
}
