package capture

import (
	"bufio"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestCommandsReachTheDeviceAsLines(t *testing.T) {
	c0, err := New(Options{Port: "/dev/null"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c0.Command("info"); !errors.Is(err, ErrGone) {
		t.Fatalf("before Run: got %v, want ErrGone", err)
	}
	p := newPort(t)
	c, _ := start(t, Options{Port: p.Link(), Input: InputFrames})
	if err := c.Command("rate 8000\nstop"); err == nil {
		t.Fatal("a command with a line break: want an error")
	}
	const senders, each = 8, 5
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if err := c.Command(fmt.Sprintf("rate %d", 1000*g+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var want []string
	for g := range senders {
		for i := range each {
			want = append(want, fmt.Sprintf("rate %d", 1000*g+i))
		}
	}
	got := readLines(t, p, len(want))
	sort.Strings(got)
	sort.Strings(want)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
	s := statsWhen(t, c, func(s Stats) bool { return s.Commands >= senders*each })
	if s.Commands != senders*each || s.CommandErrors != 0 {
		t.Fatalf("stats %+v: want %d commands, no errors", s, senders*each)
	}
}

func readLines(t *testing.T, p interface {
	Read([]byte) (int, error)
	SetReadDeadline(time.Time) error
}, n int) []string {
	t.Helper()
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	sc := bufio.NewScanner(p)
	var out []string
	for len(out) < n && sc.Scan() {
		out = append(out, sc.Text())
	}
	if len(out) < n {
		t.Fatalf("read %d lines, want %d: %v", len(out), n, sc.Err())
	}
	return out
}
