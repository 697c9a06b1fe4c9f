package bus

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

func ensure(t *testing.T, c *Conn, ch string, s StreamSettings) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := c.EnsureStream(ctx, ch, s)
	return err
}

func wantErr(t *testing.T, err, sentinel error, parts ...string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want %v", err, sentinel)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not say %q", err, p)
		}
	}
}

func TestEnsureStreamNoJetStream(t *testing.T) {
	n := natstest.RunServer(t, natstest.WithoutJetStream())
	err := ensure(t, dial(t, n.URL()), "mic", testSettings)
	wantErr(t, err, ErrNoJetStream, "jetstream {}", "bus.domain")
	if !permanent(err) {
		t.Fatal("no JetStream must not be retried as if it could heal")
	}
}

func TestEnsureStreamConflicts(t *testing.T) {
	n := natstest.RunServer(t)
	c := dial(t, n.URL())
	if err := ensure(t, c, "mic", testSettings); err != nil {
		t.Fatal(err)
	}
	if err := ensure(t, c, "mic", testSettings); err != nil {
		t.Fatalf("the same settings again: %v", err)
	}
	s := testSettings
	s.MaxAge, s.MaxBytes = 2*time.Hour, 1<<20
	wantErr(t, ensure(t, c, "mic", s), ErrConflict, "stream wsbridge_mic exists with max_age 1h0m0s (want 2h0m0s), max_bytes 67108864 (want 1048576)",
		"nats stream edit wsbridge_mic --max-age 2h0m0s --max-bytes 1048576")
	s = testSettings
	s.Memory = true
	wantErr(t, ensure(t, c, "mic", s), ErrConflict, "storage File (want Memory, which JetStream cannot change in place)")

	other := dial(t, n.URL(), func(c *Config) { c.Site = "lab2" })
	wantErr(t, ensure(t, other, "mic", testSettings), ErrConflict, "channel mic is already on the bus from site lab1",
		`bus.site "lab1"`, "nats stream rm wsbridge_mic")
	// A second channel from the other site is fine.
	if err := ensure(t, other, "accel", testSettings); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureStreamPermission(t *testing.T) {
	n := natstest.RunServer(t, natstest.WithOptions(func(o *server.Options) {
		o.Users = []*server.User{{Username: "site", Password: "pw", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{"$JS.API.STREAM.CREATE.>"}}}}}
	}))
	url := strings.Replace(n.URL(), "nats://", "nats://site:pw@", 1)
	wantErr(t, ensure(t, dial(t, url), "mic", testSettings), ErrPermission, "$JS.API.STREAM.CREATE.wsbridge_mic")
}

func TestDialRefusedCredentials(t *testing.T) {
	n := natstest.RunServer(t, natstest.WithOptions(func(o *server.Options) { o.Username, o.Password = "site", "pw" }))
	_, err := Dial(Config{URL: URLList{strings.Replace(n.URL(), "nats://", "nats://site:wrong@", 1)}}, testLogger(t))
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("Dial with a wrong password: %v, want the authorization violation at once", err)
	}
}

// A bus unreachable at start: Dial returns at once, the state says down,
// and the publisher publishes what the ring holds once the bus is there.
func TestBusUnreachableAtStart(t *testing.T) {
	n := natstest.NewServer(t)
	c := dial(t, n.URL())
	if up, reason, _, _ := c.State(); up || !strings.Contains(reason, "unreachable") {
		t.Fatalf("state up=%v %q, want down saying the bus is unreachable", up, reason)
	}
	lg := newMemLog("0000000a", 0, 1000)
	p := publishing(t, c, lg)
	lg.frames(100)
	if ok, _ := p.State(); ok {
		t.Fatal("publisher says it publishes with no bus")
	}
	n.Start()
	rec := newRecorder()
	f, err := dial(t, n.URL()).NewFollower("mic", all(), rec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	expectEvents(t, rec.waitFrame(t, "0000000a", 99), "frames 0000000a/0..99")
	if up, _, _, _ := c.State(); !up {
		t.Fatal("state still down after the bus came")
	}
}

// Two serves publishing the same channel (the same bus.site on two
// hosts) interleave nothing: the first to find the other's message after
// its own stops and says so.
func TestTwoPublishers(t *testing.T) {
	n := natstest.RunServer(t)
	a, b := newMemLog("aaaaaaaa", 0, 1000), newMemLog("bbbbbbbb", 0, 1000)
	pa, _ := dial(t, n.URL()).NewPublisher("mic", a, testSettings)
	pb, _ := dial(t, n.URL()).NewPublisher("mic", b, testSettings)
	run(t, pa.Run)
	a.frames(10)
	rec, _ := (&rig{subURL: n.URL()}).follow(t, "mic", all())
	rec.waitFrame(t, "aaaaaaaa", 9)
	run(t, pb.Run)
	b.frames(10)
	rec.waitFrame(t, "bbbbbbbb", 9)
	a.frames(10)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, reason := pa.State()
		if !ok && strings.Contains(reason, "another serve publishing channel mic") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first publisher state %v %q, want it stopped naming the other publisher", ok, reason)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// With one publish in flight at a time everything still arrives in order.
func TestPublisherInflightOne(t *testing.T) {
	n := natstest.RunServer(t)
	c := dial(t, n.URL(), func(c *Config) { c.Inflight = 1 })
	lg := newMemLog("11111111", 0, 1000)
	p, _ := c.NewPublisher("mic", lg, testSettings)
	run(t, p.Run)
	lg.frames(300)
	rec, _ := (&rig{subURL: n.URL()}).follow(t, "mic", all())
	expectEvents(t, rec.waitFrame(t, "11111111", 299), "frames 11111111/0..299")
}

func TestChannels(t *testing.T) {
	n := natstest.RunServer(t)
	a := dial(t, n.URL())
	b := dial(t, n.URL(), func(c *Config) { c.Site = "lab2" })
	for _, x := range []struct {
		c  *Conn
		ch string
	}{{a, "mic"}, {b, "accel"}, {a, "door"}} {
		if err := ensure(t, x.c, x.ch, testSettings); err != nil {
			t.Fatal(err)
		}
	}
	other := dial(t, n.URL(), func(c *Config) { c.Prefix = "other" })
	if err := ensure(t, other, "mic", testSettings); err != nil {
		t.Fatal(err)
	}
	list, err := a.Channels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range list {
		got = append(got, c.Name+"@"+c.Site+" "+c.Stream+" "+c.Subject)
	}
	want := []string{"accel@lab2 wsbridge_accel wsbridge.lab2.accel", "door@lab1 wsbridge_door wsbridge.lab1.door", "mic@lab1 wsbridge_mic wsbridge.lab1.mic"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("channels %q, want %q", got, want)
	}
}

// A bus behind TLS with nkey authentication (bus.tls.ca, bus.nkey): a
// serve that trusts the server's CA and holds the seed publishes and
// follows; one without the CA, or with a key the server does not know,
// is told at once, naming the cause, instead of retrying forever.
func TestDialTLSNkey(t *testing.T) {
	cert, key, _ := testsupport.SelfSigned(t)
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	seedFile := filepath.Join(t.TempDir(), "lab1.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	n := natstest.RunServer(t, natstest.WithOptions(func(o *server.Options) {
		o.TLSConfig, o.TLS, o.TLSTimeout = tc, true, 2
		o.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	}))
	url := strings.Replace(n.URL(), "nats://", "tls://", 1)

	c, err := Dial(Config{URL: URLList{url}, NKey: seedFile, TLS: TLS{CA: cert}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	lg := newMemLog("5ec0de00", 0, 100)
	publishing(t, c, lg)
	lg.frames(10)
	rec := newRecorder()
	f, err := c.NewFollower("mic", all(), rec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	expectEvents(t, rec.waitFrame(t, "5ec0de00", 9), "frames 5ec0de00/0..9")

	if _, err := Dial(Config{URL: URLList{url}, NKey: seedFile}, testLogger(t)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v, want a certificate error at once", err)
	}
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	otherFile := filepath.Join(t.TempDir(), "other.nk")
	if err := os.WriteFile(otherFile, otherSeed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(Config{URL: URLList{url}, NKey: otherFile, TLS: TLS{CA: cert}}, testLogger(t)); err == nil ||
		!strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("with an unknown nkey: %v, want the authorization violation at once", err)
	}
}
