package bus

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wsbridge/wsbridge/internal/bus/natstest"
	"github.com/wsbridge/wsbridge/internal/testsupport"
)

// rig is one NATS topology the conformance suite runs against: where the
// publishing serve and the following serve connect, the stream settings,
// and two faults. failover kills the NATS node that matters (a single
// node, the stream's leader in a cluster, the hub behind a leaf) and
// brings it back; outage takes the bus away from the publisher until
// restore is called, so that nothing can be stored meanwhile.
type rig struct {
	pubURL, subURL string
	pubDomain      string // the JetStream domain a publisher at a leaf names
	settings       StreamSettings
	failover       func(t *testing.T, stream string) (restore func())
	loses          bool // failover takes the follower's server (and its consumer) too
	outage         func(t *testing.T, stream string) (restore func())
	// settled waits until every replica of stream has applied a purge
	// up to first (nil: one replica).
	settled func(t *testing.T, stream string, first uint64)
}

// topologies are the NATS setups every case runs on.
var topologies = []struct {
	name string
	up   func(t *testing.T) *rig
}{
	{"single", func(t *testing.T) *rig {
		n := natstest.RunServer(t)
		bounce := func(*testing.T, string) func() { n.Stop(); return n.Start }
		return &rig{pubURL: n.URL(), subURL: n.URL(), settings: testSettings, failover: bounce, outage: bounce, loses: true}
	}},
	{"cluster3", func(t *testing.T) *rig {
		c := natstest.RunCluster(t, 3)
		s := testSettings
		s.Replicas = 3
		return &rig{pubURL: c.URL(), subURL: c.Nodes[2].URL() + "," + c.Nodes[1].URL(), settings: s,
			settled: func(t *testing.T, stream string, first uint64) {
				c.WaitReplicas(t, stream, func(st server.StreamState) bool { return st.FirstSeq >= first })
			},
			failover: func(t *testing.T, stream string) func() {
				leader := c.WaitStreamLeader(t, stream)
				leader.Stop()
				return func() { leader.Start(); c.WaitReady(t); c.WaitStreamLeader(t, stream) }
			},
			outage: func(t *testing.T, stream string) func() {
				c.WaitStreamLeader(t, stream)
				c.Nodes[0].Stop() // two of three gone: no quorum, nothing can be stored
				c.Nodes[1].Stop()
				return func() {
					c.Nodes[0].Start()
					c.Nodes[1].Start()
					c.WaitReady(t)
					c.WaitStreamLeader(t, stream)
				}
			}}
	}},
	{"leaf", func(t *testing.T) *rig {
		hub, leaf := natstest.RunHubLeaf(t, natstest.WithOptions(func(o *server.Options) { o.JetStreamDomain = "hub" }))
		bounce := func(t *testing.T, _ string) func() {
			hub.Stop()
			return func() { hub.Start(); natstest.WaitLeaf(t, hub, leaf) }
		}
		return &rig{pubURL: leaf.URL(), pubDomain: "hub", subURL: hub.URL(), settings: testSettings, failover: bounce, outage: bounce, loses: true}
	}},
}

// cases is the conformance suite: what every topology must do.
var cases = []struct {
	name string
	run  func(t *testing.T, r *rig)
	long string // a topology where the case takes long (skipped with -short)
}{
	{"ExactlyOnceInOrder", caseExactlyOnce, ""},
	{"Resume", caseResume, ""},
	{"ResumeTrimmed", caseResumeTrimmed, ""},
	{"Failover", caseFailover, ""},
	{"OutageLongerThanRing", caseOutageLongerThanRing, "cluster3"}, // restarting two nodes: elections take seconds
}

func TestConformance(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			if tp.name == "cluster3" && testing.Short() {
				t.Skip("a 3-node cluster takes seconds to form and fail over: run without -short")
			}
			r := tp.up(t)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if c.long == tp.name && testing.Short() {
						t.Skip("long on this topology: run without -short")
					}
					c.run(t, r)
				})
			}
		})
	}
}

// channelName is a fresh channel per case, so cases share a topology.
func channelName(t *testing.T) string {
	return fmt.Sprintf("c%d", time.Now().UnixNano()%1e9)
}

// publish starts a publisher of lg on r; its connection is returned.
func (r *rig) publish(t *testing.T, ch string, lg Log, mod ...func(*Config)) (*Conn, *Publisher) {
	t.Helper()
	c := dial(t, r.pubURL, append([]func(*Config){func(c *Config) { c.Domain = r.pubDomain }}, mod...)...)
	p, err := c.NewPublisher(ch, lg, r.settings)
	if err != nil {
		t.Fatal(err)
	}
	run(t, p.Run)
	return c, p
}

// follow starts a follower of ch on r from start.
func (r *rig) follow(t *testing.T, ch string, from Start) (*recorder, *Follower) {
	t.Helper()
	rec := newRecorder()
	f, err := dial(t, r.subURL).NewFollower(ch, from, rec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, f.Run)
	return rec, f
}

func all() Start { return Start{Since: time.Now().Add(-time.Hour)} }

func expectEvents(t *testing.T, evs []Event, want ...string) {
	t.Helper()
	if got := describe(evs); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	checkPackets(t, evs)
}

// streamMsgs is how many messages the channel's stream holds.
func streamMsgs(t *testing.T, c *Conn, ch string) uint64 {
	t.Helper()
	st, err := c.js.Stream(context.Background(), c.layout.Stream(ch))
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

func caseExactlyOnce(t *testing.T, r *rig) {
	ch := channelName(t)
	lg := newMemLog("aaaa0001", 100, 100000)
	c, _ := r.publish(t, ch, lg)
	lg.status(KindUp, "open /dev/ttyUSB0")
	lg.frames(2000)
	lg.gap(3)
	lg.logLine("boot ok")
	lg.frames(10)
	lg.status(KindDown, "unplugged")
	lg.restart("bbbb0002", 0)
	lg.frames(20)
	lg.newEpoch("cccc0003", 7000) // a new serve process: no restart event, its status before the first frame
	lg.status(KindUp, "open /dev/ttyUSB0")
	lg.frames(5)
	rec, _ := r.follow(t, ch, all())
	evs := rec.waitFrame(t, "cccc0003", 7004)
	expectEvents(t, evs, `up aaaa0001/100 "open /dev/ttyUSB0"`, "frames aaaa0001/100..2099", "gap aaaa0001/2100..2102 (device)",
		`log aaaa0001/2103 ""`, "frames aaaa0001/2103..2112", `down aaaa0001/2113 "unplugged"`,
		"restart bbbb0002/0", "frames bbbb0002/0..19", `up cccc0003/7000 "open /dev/ttyUSB0"`, "restart cccc0003/7000", "frames cccc0003/7000..7004")
	if n := len(storedEvents(t, c, ch)); n != len(evs)-1 { // the last restart is the follower's
		t.Fatalf("stream holds %d events for %d", n, len(evs)-1)
	}
	if m := streamMsgs(t, c, ch); m >= uint64(len(evs)-1) {
		t.Fatalf("stream holds %d messages for %d events: frames published all at once were not batched", m, len(evs)-1)
	}
}

// resumeLog publishes E1 100..399 with a device gap 300..302, a restart
// to E2 and E2 0..99, and waits until all of it is stored.
func resumeLog(t *testing.T, r *rig, ch string, mod ...func(*Config)) (*memLog, *Conn) {
	lg := newMemLog("e1e1e1e1", 100, 100000)
	c, _ := r.publish(t, ch, lg, mod...)
	lg.frames(200)
	lg.gap(3)
	lg.frames(97)
	lg.restart("e2e2e2e2", 0)
	lg.frames(100)
	rec, _ := r.follow(t, ch, all())
	rec.waitFrame(t, "e2e2e2e2", 99)
	return lg, c
}

func caseResume(t *testing.T, r *rig) {
	ch := channelName(t)
	lg, _ := resumeLog(t, r, ch)
	for _, tc := range []struct {
		from Start
		want []string
	}{
		{Start{Epoch: "e1e1e1e1", Seq: 150}, []string{"frames e1e1e1e1/150..299", "gap e1e1e1e1/300..302 (device)",
			"frames e1e1e1e1/303..399", "restart e2e2e2e2/0", "frames e2e2e2e2/0..99"}},
		{Start{Epoch: "e1e1e1e1", Seq: 301}, []string{"gap e1e1e1e1/301..302 (device)",
			"frames e1e1e1e1/303..399", "restart e2e2e2e2/0", "frames e2e2e2e2/0..99"}},
		{Start{Epoch: "e2e2e2e2", Seq: 50}, []string{"frames e2e2e2e2/50..99"}},
		// An epoch the stream never held (a client of an earlier serve):
		// the restart, then everything held of the current epoch.
		{Start{Epoch: "0badbad0", Seq: 5}, []string{"restart e2e2e2e2/0", "frames e2e2e2e2/0..99"}},
	} {
		rec, _ := r.follow(t, ch, tc.from)
		expectEvents(t, rec.waitFrame(t, "e2e2e2e2", 99), tc.want...)
	}
	// At the newest frame: nothing until the next one.
	rec, _ := r.follow(t, ch, Start{Epoch: "e2e2e2e2", Seq: 100})
	lg.frames(1)
	expectEvents(t, rec.waitFrame(t, "e2e2e2e2", 100), "frames e2e2e2e2/100..100")

	// What a mirror's client that resumes before the mirror's ring reads
	// (Replay): exactly from..to, starting and ending inside batches.
	for _, tc := range []struct {
		epoch    string
		from, to uint32
		want     []string
	}{
		{"e1e1e1e1", 151, 320, []string{"frames e1e1e1e1/151..299", "gap e1e1e1e1/300..302 (device)", "frames e1e1e1e1/303..320"}},
		{"e1e1e1e1", 301, 301, []string{"gap e1e1e1e1/301..301 (device)"}},
		{"e2e2e2e2", 7, 93, []string{"frames e2e2e2e2/7..93"}},
	} {
		var got []Event
		err := dial(t, r.subURL).Replay(context.Background(), ch, tc.epoch, tc.from, tc.to, func(ev *Event) error {
			e := *ev
			e.Raw = slices.Clone(ev.Raw)
			got = append(got, e)
			return nil
		})
		if err != nil {
			t.Fatalf("replay %s/%d..%d: %v", tc.epoch, tc.from, tc.to, err)
		}
		expectEvents(t, got, tc.want...)
	}
}

// purgeBefore trims the stream as MaxAge would: only messages from the
// one carrying (epoch, seq) on are kept. It returns the first frame kept
// (a message may carry several frames: the batch holding seq stays whole).
func purgeBefore(t *testing.T, r *rig, c *Conn, ch string, epoch string, seq uint32) (kept uint32) {
	t.Helper()
	ctx := context.Background()
	st, err := c.js.Stream(ctx, c.layout.Stream(ch))
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	get := streamGetter(st, info.Config.Subjects[0])
	loc, err := locate(ctx, get, info.State.FirstSeq, info.State.LastSeq, epoch, seq)
	if err != nil || !loc.found {
		t.Fatalf("locate %s/%d: %v %v", epoch, seq, loc, err)
	}
	p, err := get(ctx, loc.seq)
	if err != nil || p == nil {
		t.Fatalf("message %d: %v", loc.seq, err)
	}
	kept = p.all[0].Seq
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(loc.seq)); err != nil {
		t.Fatal(err)
	}
	if r.settled != nil {
		r.settled(t, c.layout.Stream(ch), loc.seq)
	}
	return kept
}

// history is the history gap from..to as describe writes it, or nothing
// when it is empty.
func history(epoch string, from, to uint32) []string {
	if to < from || to == from-1 {
		return nil
	}
	return []string{fmt.Sprintf("gap %s/%d..%d (history)", epoch, from, to)}
}

func caseResumeTrimmed(t *testing.T, r *rig) {
	ch := channelName(t)
	// At most 8 frames a message: the batch a purge keeps whole is small,
	// and 45 and 60 are never in the same message.
	_, c := resumeLog(t, r, ch, func(c *Config) { c.Batch = 8 })
	k := purgeBefore(t, r, c, ch, "e1e1e1e1", 250)
	rec, _ := r.follow(t, ch, Start{Epoch: "e1e1e1e1", Seq: 150})
	expectEvents(t, rec.waitFrame(t, "e2e2e2e2", 99), append(history("e1e1e1e1", 150, k-1), fmt.Sprintf("frames e1e1e1e1/%d..299", k),
		"gap e1e1e1e1/300..302 (device)", "frames e1e1e1e1/303..399", "restart e2e2e2e2/0", "frames e2e2e2e2/0..99")...)

	// The whole epoch and the restart gone: a restart, and what is missing of the new epoch.
	k = purgeBefore(t, r, c, ch, "e2e2e2e2", 40)
	rec, _ = r.follow(t, ch, Start{Epoch: "e1e1e1e1", Seq: 150})
	evs := rec.waitFrame(t, "e2e2e2e2", 99)
	expectEvents(t, evs[1:], append(history("e2e2e2e2", 0, k-1), fmt.Sprintf("frames e2e2e2e2/%d..99", k))...)
	if evs[0].Kind != KindRestart || evs[0].Epoch != "e2e2e2e2" || evs[0].Seq != 0 {
		t.Fatalf("first event %s, want the restart to e2e2e2e2/0", evs[0].String())
	}

	// The silent start: the stream trimmed between the lookup and the consumer's start.
	rec = newRecorder()
	f, err := dial(t, r.subURL).NewFollower(ch, Start{Epoch: "e2e2e2e2", Seq: 45}, rec)
	if err != nil {
		t.Fatal(err)
	}
	f.afterLocate = func() { k = purgeBefore(t, r, c, ch, "e2e2e2e2", 60) }
	run(t, f.Run)
	evs = rec.waitFrame(t, "e2e2e2e2", 99)
	expectEvents(t, evs, append(history("e2e2e2e2", 45, k-1), fmt.Sprintf("frames e2e2e2e2/%d..99", k))...)
	if f.silentStarts.Load() != 1 {
		t.Fatalf("silent starts %d, want 1", f.silentStarts.Load())
	}
}

func caseFailover(t *testing.T, r *rig) {
	ch := channelName(t)
	lg := newMemLog("f0f0f0f0", 0, 100000)
	c, p := r.publish(t, ch, lg)
	rec, f := r.follow(t, ch, all())
	rec.onTimeout = func() { dumpState(t, c, ch, p) }
	lg.frames(300)
	rec.waitFrame(t, "f0f0f0f0", 299)
	restore := r.failover(t, c.layout.Stream(ch))
	lg.frames(300) // published as soon as the bus takes them again
	restore()
	lg.frames(300)
	evs := rec.waitFrame(t, "f0f0f0f0", 899)
	expectEvents(t, evs, "frames f0f0f0f0/0..899")
	// Stored once each: the stream's count (from its leader, which may
	// still be applying what the replicas committed after an election)
	// reaches 900 and never passes it.
	var n int
	if !testsupport.Within(10*time.Second, 20*time.Millisecond, func() bool { n = len(storedEvents(t, c, ch)); return n >= 900 }) || n != 900 {
		t.Fatalf("stream holds %d events for 900 frames", n)
	}
	t.Logf("publisher: resent %d, duplicates %d, failures %d; follower: sessions %d, resets %d, heartbeats missed %d, skipped %d",
		p.resent.Load(), p.duplicates.Load(), p.failures.Load(), f.sessions.Load(), f.resets.Load(), f.heartbeats.Load(), f.skipped.Load())
	if r.loses && f.resets.Load() == 0 {
		t.Fatalf("the follower's server restarted: %d consumer resets counted (in %d sessions), want at least one",
			f.resets.Load(), f.sessions.Load())
	}
}

func caseOutageLongerThanRing(t *testing.T, r *rig) {
	ch := channelName(t)
	lg := newMemLog("0e0e0e0e", 0, 50)
	c, p := r.publish(t, ch, lg)
	rec, _ := r.follow(t, ch, all())
	rec.onTimeout = func() { dumpState(t, c, ch, p) }
	lg.frames(10)
	rec.waitFrame(t, "0e0e0e0e", 9)
	restore := r.outage(t, c.layout.Stream(ch))
	lg.frames(200) // the ring keeps the newest 50: 160..209
	t0 := time.Now()
	restore()
	t1 := time.Now()
	evs := rec.waitFrame(t, "0e0e0e0e", 209)
	t.Logf("restore %v, then the frames %v", t1.Sub(t0), time.Since(t1))
	// Which of 10..159 were lost depends on timing: publishes in flight
	// when the bus went can still be stored (a cluster commits what its
	// leader logged once quorum is back; a leaf's publish is retried).
	// What never varies: each seq is accounted for once, in order, as a
	// frame or in a history gap; 0..9 and 160..209 arrive; only frames
	// the ring evicted (10..159) may be in a gap.
	lost := checkCoverage(t, evs, "0e0e0e0e", 0, 209)
	// Stored once, not only shown once. In a cluster the follower may have
	// read 209 from a replica before the leader, whose state storedEvents
	// reads, has applied it (as after the failover above): wait for it.
	var stored []Event
	testsupport.Within(10*time.Second, 20*time.Millisecond, func() bool {
		stored = storedEvents(t, c, ch)
		return slices.ContainsFunc(stored, func(e Event) bool { return e.Kind == KindFrame && e.Epoch == "0e0e0e0e" && e.Seq == 209 })
	})
	checkCoverage(t, stored, "0e0e0e0e", 0, 209)
	for _, q := range lost {
		if q < 10 || q > 159 {
			t.Fatalf("frame %d reported lost, but the ring held it until it was stored", q)
		}
	}
	if n := p.lostFrames.Load(); n < uint64(len(lost)) || n > 150 {
		t.Fatalf("publisher counted %d lost frames; the stream's gaps hold %d, the ring evicted 150", n, len(lost))
	}
}

// dumpState logs what the stream and the publisher say, when a wait fails.
func dumpState(t *testing.T, c *Conn, ch string, p *Publisher) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ok, reason := p.State()
	t.Logf("publisher %v %q, connected to %s", ok, reason, c.nc.ConnectedUrl())
	st, err := c.js.Stream(ctx, c.layout.Stream(ch))
	if err != nil {
		t.Logf("stream: %v", err)
		return
	}
	info := st.CachedInfo()
	t.Logf("stream state %+v cluster %+v", info.State, info.Cluster)
	if info.Cluster != nil {
		for _, r := range info.Cluster.Replicas {
			t.Logf("replica %+v", *r)
		}
	}
	if m, err := st.GetLastMsgForSubject(ctx, info.Config.Subjects[0]); err == nil {
		t.Logf("last message %d: %v", m.Sequence, m.Header)
	}
	ack, err := c.js.Publish(ctx, info.Config.Subjects[0]+".probe", nil)
	t.Logf("a synchronous publish to a subject outside the stream: %v %v", ack, err)
	ack, err = c.js.PublishMsg(ctx, newMsg(info.Config.Subjects[0], &Event{Kind: KindLog, Epoch: "probe"}, "probe", info.State.LastSeq))
	t.Logf("a synchronous publish into the stream: %+v %v", ack, err)
}

// storedEvents reads every message the channel's stream holds, as stored.
func storedEvents(t *testing.T, c *Conn, ch string) []Event {
	t.Helper()
	ctx := context.Background()
	st, err := c.js.Stream(ctx, c.layout.Stream(ch))
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	get := streamGetter(st, info.Config.Subjects[0])
	var evs []Event
	for q := info.State.FirstSeq; q <= info.State.LastSeq; q++ {
		p, err := get(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if p != nil && p.seq == q {
			evs = append(evs, p.all...)
		}
	}
	return evs
}
