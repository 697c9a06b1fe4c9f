package bus

import (
	"bufio"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/pollio"
)

// Dial's connection to the bus reads and writes through pollio (the raw
// dialer), and those reads and writes behave as net.Conn's towards a real
// nats-server: its INFO is read, a PING is answered, a read deadline is a
// timeout that names the read, and after Close both fail with
// net.ErrClosed.
func TestRawDialer(t *testing.T) {
	n := natstest.RunServer(t)
	if c := dial(t, n.URL()); c.nc.Opts.CustomDialer == nil {
		t.Fatal("Dial's NATS connection has no custom dialer: nats.go's own reads and writes wake sysmon at every frame")
	} else if _, ok := c.nc.Opts.CustomDialer.(*rawDialer); !ok {
		t.Fatalf("Dial's custom dialer is a %T, want *rawDialer", c.nc.Opts.CustomDialer)
	}
	u, err := url.Parse(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := newRawDialer(2*time.Second).Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*pollio.Conn); !ok {
		t.Fatalf("dialled a %T, want *pollio.Conn", c)
	}
	br := bufio.NewReader(c)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "INFO {") {
		t.Fatalf("first line %q, %v: want the server's INFO", line, err)
	}
	if _, err := c.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := br.ReadString('\n'); err != nil || line != "PONG\r\n" {
		t.Fatalf("answer to PING %q, %v: want PONG", line, err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = c.Read(make([]byte, 10))
	var ne net.Error
	var oe *net.OpError
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &oe) || oe.Op != "read" {
		t.Errorf("read past the deadline: %v; want a read timeout", err)
	}
	c.Close()
	if _, err := c.Write([]byte("PING\r\n")); !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) || oe.Op != "write" {
		t.Errorf("write after Close: %v; want a write error matching net.ErrClosed", err)
	}
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v; want net.ErrClosed", err)
	}
}
