package bus_test

import (
	"context"
	"net"
	"net/http"
	"os"

	"github.com/wsbridge/wsbridge/internal/bus"
)

// benchHTTPClient is the HTTP client of the benchmarks' WebSocket
// readers: its connections read and write through internal/pollio's raw
// system calls, as the serves' own sockets do. A reader in the test
// process that reads through net/http's connection makes an ordinary
// system call per frame, which wakes the runtime's monitor thread
// (sysmon) that the serves share with it and sets it polling every
// 20 µs; a client in another process, as in use, cannot. It did so with
// the bus only (the reads come between the feed's timer ticks, when
// sysmon sleeps until the next one): 4.4 of the 6.4 thread sleeps per
// frame at one P, 12 to 21 % of BusCPU's with_bus CPU (docs/benchmarks.md,
// 2026-12-02 afternoon). BUS_BENCH_NETCLIENT=1 reads through net/http's connection
// as before.
func benchHTTPClient() *http.Client {
	if os.Getenv("BUS_BENCH_NETCLIENT") != "" {
		return nil
	}
	d := bus.RawDialerForTest() // serve's own dialer to the bus: a pollio.Conn for TCP
	return &http.Client{Transport: &http.Transport{DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
		return d.Dial(network, addr)
	}}}
}
