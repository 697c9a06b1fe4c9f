//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/wsbridge/wsbridge/internal/frame"
)

// How a consumer talks to a bridge.
const (
	wireTCP      = "tcp"       // raw TCP: the device's COBS byte stream (ser2net, socat)
	wireWSStream = "ws-stream" // WebSocket binary messages, each a chunk of the COBS stream (py, node)
	wireWSPacket = "ws-packet" // WebSocket binary messages, each one v1 packet (wsbridge)
)

// tally is what one consumer saw. Written by the consumer goroutine only;
// read after it has stopped (done), except progress which is atomic.
type tally struct {
	frames      uint64 // distinct in-order data frames received
	sampleBytes uint64 // sample payload bytes of those frames
	missing     uint64 // frames skipped over (seq jumped forward)
	dups        uint64 // frames at or below a seq already seen
	badSamples  uint64 // frames whose samples are not the counter signal
	gapMsgs     uint64 // gap messages the bridge sent (wsbridge reports its drops)
	gapFrames   uint64 // frames those messages said were dropped
	lastUS      uint64 // clock time of the last frame received
	seq         frame.SeqTracker
	lat         hist
	err         error
	progress    atomic.Uint64 // frames, for the drain wait
	checkAll    bool          // verify every sample (paced) or first and last (flat out)
	frameSample int

	// Text workloads: a "frame" above is one line, and lines are followed
	// by value (the counter) rather than by seq.
	stamps      lineStamps // write time of each line; nil for the frame workloads
	nextLine    int64
	lineStarted bool
}

// next is the seq (frames) or line (text) expected next, and whether
// anything arrived.
func (t *tally) next() (uint64, bool) {
	if t.stamps != nil {
		return uint64(t.nextLine), t.lineStarted
	}
	n, ok := t.seq.Next()
	return uint64(n), ok
}

// observeLine accounts for one counter line of value v received at clock
// time nowUS: in order, skipped over (missing), or again (duplicate).
func (t *tally) observeLine(v int64, nowUS uint64) {
	switch {
	case !t.lineStarted:
		t.lineStarted = true
		t.missing += uint64(v)
	case v < t.nextLine:
		t.dups++
		return
	case v > t.nextLine:
		t.missing += uint64(v - t.nextLine)
	}
	t.nextLine = v + 1
	stamp, ok := t.stamps.at(v)
	if !ok {
		t.badSamples++ // a value the writer never wrote
		return
	}
	t.frames++
	t.sampleBytes += 4 // one i32 sample
	t.lastUS = nowUS
	t.lat.add(nowUS - min(stamp, nowUS))
	t.progress.Add(1)
}

// observe accounts for one data frame received at clock time nowUS.
// The bench's stream starts at seq 0 and never restarts, so frames before
// the first one received are missing, and a seq from the past (which
// SeqTracker may call a restart) is a duplicate.
func (t *tally) observe(f *frame.Frame, nowUS uint64) {
	next, _ := t.seq.Next()
	switch ev := t.seq.Observe(f.Seq); ev.Kind {
	case frame.SeqFirst:
		t.missing += uint64(f.Seq)
	case frame.SeqGap:
		t.missing += uint64(ev.Lost)
	case frame.SeqRestart:
		t.seq.Expect(next)
		fallthrough
	case frame.SeqDuplicate:
		t.dups++
		return
	}
	if !t.counterOK(f) {
		t.badSamples++
	}
	t.frames++
	t.sampleBytes += uint64(len(f.Data))
	t.lastUS = nowUS
	if nowUS >= f.TimeUS {
		t.lat.add(nowUS - f.TimeUS)
	} else {
		t.lat.add(0)
	}
	t.progress.Add(1)
}

// counterOK checks the counter signal: sample k of frame seq is int16(seq*n+k).
func (t *tally) counterOK(f *frame.Frame) bool {
	n := int(f.Count)
	if f.Channels != 1 || f.SampleType != frame.I16 || n != t.frameSample || len(f.Data) != 2*n {
		return false
	}
	i0 := uint64(f.Seq) * uint64(n)
	at := func(k int) bool {
		return binary.LittleEndian.Uint16(f.Data[2*k:]) == uint16(int16(i0+uint64(k)))
	}
	if !t.checkAll {
		return at(0) && at(n-1)
	}
	for k := 0; k < n; k++ {
		if !at(k) {
			return false
		}
	}
	return true
}

// consumer is one client of the bridge under test.
type consumer struct {
	t       *tally
	ck      clock
	done    chan struct{}
	stop    func() // closes the connection, unblocking the reader
	stopped atomic.Bool
}

// dialConsumer connects one consumer and starts its reader goroutine.
func dialConsumer(ctx context.Context, wire, addr string, ck clock, t *tally) (*consumer, error) {
	c := &consumer{t: t, ck: ck, done: make(chan struct{})}
	switch wire {
	case wireTCP:
		conn, err := (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		c.stop = func() { conn.Close() }
		go c.readTCP(conn)
	case wireWSStream, wireWSPacket:
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		url := "ws://" + addr + "/"
		switch {
		case wire == wireWSPacket && t.stamps != nil:
			url = "ws://" + addr + "/ws?format=json" // what a browser or a script reads
		case wire == wireWSPacket:
			url = "ws://" + addr + "/ws"
		}
		ws, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{
			HTTPClient:      &http.Client{Timeout: 5 * time.Second},
			CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return nil, err
		}
		ws.SetReadLimit(1 << 22)
		// Reads use a context without Done so that coder/websocket sets up
		// no timer per message; CloseNow unblocks the reader.
		c.stop = func() { ws.CloseNow() }
		go c.readWS(context.Background(), ws, wire == wireWSPacket)
	default:
		return nil, fmt.Errorf("unknown wire %q", wire)
	}
	return c, nil
}

// streamDecoder returns what a raw-byte consumer feeds its chunks to: the
// COBS frame decoder, or the line splitter for text workloads. *now is
// the receive time of the chunk being fed.
func (c *consumer) streamDecoder(now *uint64) func(b []byte) {
	if c.t.stamps != nil {
		var lr lineReader
		line := func(v int64) { c.t.observeLine(v, *now) }
		bad := func() { c.t.badSamples++ }
		return func(b []byte) { lr.feed(b, line, bad) }
	}
	d := frame.NewDecoder(func(p *frame.Packet) {
		if p.Type == frame.TypeData {
			c.t.observe(&p.Frame, *now)
		}
	})
	return func(b []byte) { _, _ = d.Write(b) }
}

func (c *consumer) readTCP(conn net.Conn) {
	defer close(c.done)
	var now uint64
	feed := c.streamDecoder(&now)
	buf := make([]byte, 64<<10)
	for {
		n, err := conn.Read(buf)
		now = c.ck.us()
		feed(buf[:n])
		if err != nil {
			c.setErr(err)
			return
		}
	}
}

func (c *consumer) readWS(ctx context.Context, ws *websocket.Conn, packets bool) {
	defer close(c.done)
	var now uint64
	feed := c.streamDecoder(&now)
	line := func(v int64) { c.t.observeLine(v, now) }
	var p frame.Packet
	var buf bytes.Buffer
	for {
		typ, r, err := ws.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		now = c.ck.us()
		if err != nil {
			c.setErr(err)
			return
		}
		switch {
		case typ == websocket.MessageText && packets && c.t.stamps != nil && bytes.HasPrefix(buf.Bytes(), jsonFramePrefix):
			if !jsonFrameValues(buf.Bytes(), line) {
				c.t.badSamples++
			}
		case typ == websocket.MessageText:
			c.text(buf.Bytes())
		case !packets:
			feed(buf.Bytes())
		case frame.Parse(&p, buf.Bytes()) == nil && p.Type == frame.TypeData:
			c.t.observe(&p.Frame, now)
		}
	}
}

var jsonFramePrefix = []byte(`{"type":"frame",`)

// text handles wsbridge's JSON messages: only gaps matter here.
func (c *consumer) text(b []byte) {
	if !bytes.Contains(b, []byte(`"gap"`)) {
		return
	}
	var g struct {
		Type  string `json:"type"`
		Count uint64 `json:"count"`
	}
	if json.Unmarshal(b, &g) == nil && g.Type == "gap" {
		c.t.gapMsgs++
		c.t.gapFrames += g.Count
	}
}

// setErr records why the connection ended, unless the bench ended it.
func (c *consumer) setErr(err error) {
	if c.stopped.Load() || errors.Is(err, context.Canceled) {
		return
	}
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || websocket.CloseStatus(err) != -1 {
		err = fmt.Errorf("the bridge closed the connection during the run: %w", err)
	}
	c.t.err = err
}

// close stops the consumer and waits for its reader (bounded).
func (c *consumer) close() {
	c.stopped.Store(true)
	c.stop()
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
	}
}

// closeAll closes consumers in parallel.
func closeAll(cs []*consumer) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); c.close() }()
	}
	wg.Wait()
}
