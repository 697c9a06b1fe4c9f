//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/wsbridge/wsbridge/bench/internal/benchenv"
	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/frame"
)

// runMosquitto runs Debian's mosquitto with its defaults on loopback:
// N publishers (the same simulated boards' frames, one MQTT message per
// v1 frame) and N subscribers, one per board's topic, at QoS qos.
func runMosquitto(ctx context.Context, e *env, c *config, qos byte) (*result, error) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		return nil, fmt.Errorf("mosquitto not found: apt-get install mosquitto")
	}
	port, err := benchenv.FreePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(e.tmp, "mosquitto.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "listener %d 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type error\nlog_type warning\n", port), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitListening(addr); err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	ver, _ := exec.Command(bin, "-h").Output()
	res := &result{system: fmt.Sprintf("mosquitto-qos%d", qos), note: firstLine(string(ver))}
	t := newTally(c)
	broker := "tcp://" + addr
	var subs []mqtt.Client
	var subStates []*sub
	for i := 0; i < c.devices; i++ {
		s := &sub{t: t}
		cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("sub%03d", i)).
			SetCleanSession(true).SetAutoReconnect(true).SetKeepAlive(30 * time.Second))
		if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return nil, fmt.Errorf("subscriber %d: connect: %v", i, tok.Error())
		}
		var mu sync.Mutex
		if tok := cl.Subscribe(topic(i), qos, func(_ mqtt.Client, m mqtt.Message) {
			mu.Lock()
			s.frame(m.Payload())
			mu.Unlock()
		}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return nil, fmt.Errorf("subscriber %d: subscribe: %v", i, tok.Error())
		}
		subs, subStates = append(subs, cl), append(subStates, s)
	}
	links, err := cutLinks(ctx, c, addr)
	if err != nil {
		return nil, err
	}
	defer links.close()
	rctx, cancel := context.WithCancel(ctx)
	var made, pubErrs, connects atomic.Uint64
	devs := &devices{}
	var wg sync.WaitGroup
	for i := 0; i < c.devices; i++ {
		cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + links.addr).SetClientID(fmt.Sprintf("pub%03d", i)).
			SetCleanSession(true).SetAutoReconnect(true).SetKeepAlive(30 * time.Second).
			SetMaxReconnectInterval(time.Second). // paho's backoff doubles from 1 s over repeated cuts; the boards' ring retries within a second too
			SetOnConnectHandler(func(mqtt.Client) { connects.Add(1) }))
		if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			cancel()
			return nil, fmt.Errorf("publisher %d: connect: %v", i, tok.Error())
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer cl.Disconnect(100)
			mqttBoard(rctx, c, t, cl, i, qos, &made, &pubErrs, devs)
		}(i)
	}
	measure(ctx, res, cmd.Process.Pid, t, devs.dropped)
	links.stop()
	res.cuts = links.cuts.Load()
	time.Sleep(drain(c)) // the frames of the window reach the subscribers, after a last reconnect
	cancel()
	wg.Wait()
	for i, cl := range subs {
		cl.Disconnect(100)
		subStates[i].done()
	}
	res.finish(t, made.Load()) // one subscriber per board
	res.reconnects = connects.Load() - min(connects.Load(), uint64(c.devices))
	if n := pubErrs.Load(); n > 0 {
		res.note += fmt.Sprintf("; %d publishes failed", n)
	}
	return res, nil
}

func topic(i int) string { return fmt.Sprintf("wsbridge/b%03d", i) }

// mqttBoard is a simulated board publishing its frames over MQTT: the same
// simulated ADC as sim --publish, every data frame stamped when made and
// published as one message. No ring: a publish that blocks holds the
// board, whose ADC then drops frames as a real one does.
func mqttBoard(ctx context.Context, c *config, t *tally, cl mqtt.Client, i int, qos byte, made, errs *atomic.Uint64, devs *devices) {
	port, err := adcsim.Open(ctx, boardConfig(c, i))
	if err != nil {
		note("board %d: %v", i, err)
		return
	}
	defer port.Close()
	devs.add(port.(*adcsim.Port).Device)
	tokens := make(chan mqtt.Token, 256)
	done := make(chan struct{})
	go func() { // completes QoS 1 publishes in order (at most 256 in flight), counting failures
		defer close(done)
		for tok := range tokens {
			select {
			case <-tok.Done():
				if tok.Error() != nil {
					errs.Add(1)
				}
			case <-time.After(10 * time.Second):
				errs.Add(1)
			case <-ctx.Done():
				// The run is over: a publish still unacknowledged (its
				// connection cut) is not waited for; its frame, if it
				// was in the window and never arrived, counts as lost.
			}
		}
	}()
	defer func() { close(tokens); <-done }()
	st := &stamper{t: t, made: made}
	dec := frame.NewDecoder(func(p *frame.Packet) {
		if p.Type != frame.TypeData {
			return
		}
		pkt := stampPacket(append([]byte(nil), p.Raw...), st.stamp(&p.Frame))
		tok := cl.Publish(topic(i), qos, false, pkt)
		if qos == 0 { // fire and forget, as a QoS 0 board does: only an error known at once is counted
			select {
			case <-tok.Done():
				if tok.Error() != nil {
					errs.Add(1)
				}
			default:
			}
			return
		}
		tokens <- tok
	})
	buf := make([]byte, 16<<10)
	for {
		n, err := port.Read(buf)
		dec.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

func waitListening(addr string) error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("nothing listens on %s after 10 s", addr)
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// devices are the MQTT boards' simulated ADCs, for their drops.
type devices struct {
	mu sync.Mutex
	ds []*adcsim.Device
}

func (d *devices) add(dev *adcsim.Device) {
	d.mu.Lock()
	d.ds = append(d.ds, dev)
	d.mu.Unlock()
}

func (d *devices) dropped() (adc, overrun uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dev := range d.ds {
		adc += dev.Stats().Dropped
	}
	return adc, 0 // no ring
}
