package capture

import (
	"bufio"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/source/sourcetest"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// ptyDevice is the board's end of a virtual serial port: what it writes,
// capture reads; what capture writes (commands), it reads as lines.
type ptyDevice struct {
	p     *vport.Port
	once  sync.Once
	lines chan string
}

func (d *ptyDevice) Write(t testing.TB, serial, _ []byte) bool {
	write(t, d.p, serial)
	return true
}

func (d *ptyDevice) Lines() <-chan string {
	d.once.Do(func() {
		go func() {
			sc := bufio.NewScanner(d.p)
			for sc.Scan() {
				d.lines <- sc.Text()
			}
		}()
	})
	return d.lines
}

// The serial port passes the one conformance suite every source passes.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Kind{Name: "serial port", New: func(t *testing.T) (source.Source, sourcetest.Device) {
		p := newPort(t)
		c, err := New(Options{Port: p.Link(), Input: InputFrames, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
		if err != nil {
			t.Fatal(err)
		}
		c.list = func() ([]PortInfo, error) { return nil, nil }
		return c, &ptyDevice{p: p, lines: make(chan string, 16)}
	}})
}
