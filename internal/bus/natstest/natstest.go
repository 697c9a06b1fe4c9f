// Package natstest runs real nats-server instances in process for tests:
// one node, a 3-node JetStream cluster, a hub with a leaf node. Every
// server listens on loopback, keeps its JetStream files in the test's
// temporary directory and is shut down by t.Cleanup. A node can be
// stopped and started again on the same ports with the same store, which
// is how tests kill a NATS node and bring it back.
//
// Readiness is waited for, never slept: RunCluster returns once every
// route is up and a JetStream meta leader is elected, so the first stream
// creation does not time out during the election.
//
// Entry points: RunServer (NewServer to start it later), RunCluster,
// RunHubLeaf; Node and Cluster.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ReadyTimeout bounds every wait for a server, a route, a leaf
// connection or a JetStream leader.
const ReadyTimeout = 30 * time.Second

// Node is one nats-server. Its methods are safe for concurrent use.
type Node struct {
	Name string
	t    testing.TB
	mu   sync.Mutex
	opts server.Options // the options every (re)start uses; ports fixed after the first start
	srv  *server.Server
}

// Option changes a node's options before it first starts.
type Option func(*server.Options)

// WithMQTT enables nats-server's MQTT 3.1.1 listener on a free loopback port.
func WithMQTT() Option {
	return func(o *server.Options) { o.MQTT.Host, o.MQTT.Port = "127.0.0.1", freePort() }
}

// WithoutJetStream starts the node with JetStream off (a server the bus
// must refuse clearly, or a leaf that forwards to its hub's JetStream).
func WithoutJetStream() Option { return func(o *server.Options) { o.JetStream = false } }

// WithOptions applies f to the options (accounts, users, limits...).
func WithOptions(f func(*server.Options)) Option { return Option(f) }

// RunServer starts one JetStream node and waits until it accepts clients.
func RunServer(t testing.TB, opts ...Option) *Node {
	t.Helper()
	n := NewServer(t, opts...)
	n.Start()
	return n
}

// NewServer prepares one JetStream node with its ports chosen but does
// not start it: a bus that is unreachable until Start.
func NewServer(t testing.TB, opts ...Option) *Node { return newNode(t, "n1", opts...) }

func newNode(t testing.TB, name string, opts ...Option) *Node {
	o := server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       freePort(),
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		// Leave room on a machine shared by many tests.
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  1 << 30,
	}
	for _, f := range opts {
		f(&o)
	}
	n := &Node{Name: name, t: t, opts: o}
	t.Cleanup(n.Stop)
	return n
}

// Start starts the node (again) on its ports with its store and waits
// until it accepts clients. Starting a running node is a no-op.
func (n *Node) Start() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		return
	}
	o := n.opts // the server keeps and mutates its copy
	s, err := server.NewServer(&o)
	if err != nil {
		n.t.Fatalf("natstest: failed to configure %s: %v", n.Name, err)
	}
	if os.Getenv("NATSTEST_LOG") != "" { // the servers' own log, to see why a test failed
		s.SetLoggerV2(&logger{t: n.t, name: n.Name}, os.Getenv("NATSTEST_LOG") == "debug", false, false)
	}
	go s.Start()
	if !s.ReadyForConnections(ReadyTimeout) {
		s.Shutdown()
		n.t.Fatalf("natstest: %s not ready for connections within %v", n.Name, ReadyTimeout)
	}
	n.srv = s
}

// Stop shuts the node down and waits for it: its clients see the
// connection drop, as when the process is killed. Stopping a stopped
// node is a no-op.
func (n *Node) Stop() {
	n.mu.Lock()
	s := n.srv
	n.srv = nil
	n.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Server is the running server, or nil when stopped.
func (n *Node) Server() *server.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// URL is the node's client URL (nats://127.0.0.1:PORT), valid across restarts.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port) }

// MQTTAddr is the MQTT listener's host:port, or "" without WithMQTT.
func (n *Node) MQTTAddr() string {
	if n.opts.MQTT.Port == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", n.opts.MQTT.Port)
}

// Cluster is a JetStream cluster of nodes routed to each other.
type Cluster struct {
	Nodes []*Node
}

// RunCluster starts size JetStream nodes in one cluster and waits until
// every route is connected and a meta leader is elected.
func RunCluster(t testing.TB, size int, opts ...Option) *Cluster {
	t.Helper()
	ports := make([]int, size)
	var routes []*url.URL
	for i := range ports {
		ports[i] = freePort()
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
	}
	c := &Cluster{}
	for i := range size {
		o := append([]Option{func(o *server.Options) {
			o.Cluster = server.ClusterOpts{Name: "wsbridge-test", Host: "127.0.0.1", Port: ports[i],
				PoolSize: -1, Compression: server.CompressionOpts{Mode: server.CompressionOff}}
			o.Routes = routes
		}}, opts...)
		c.Nodes = append(c.Nodes, newNode(t, fmt.Sprintf("n%d", i+1), o...))
	}
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.Start() }()
	}
	wg.Wait()
	c.WaitReady(t)
	return c
}

// URLs is every node's client URL, for a client's server list.
func (c *Cluster) URLs() []string {
	var u []string
	for _, n := range c.Nodes {
		u = append(u, n.URL())
	}
	return u
}

// URL is the comma-separated list of URLs (what nats.Connect accepts).
func (c *Cluster) URL() string { return strings.Join(c.URLs(), ",") }

// WaitReady waits until the running nodes are routed to each other, a
// meta leader is elected and every running node's JetStream is current.
func (c *Cluster) WaitReady(t testing.TB) {
	t.Helper()
	waitFor(t, "cluster routes and a JetStream meta leader", func() bool {
		var running []*server.Server
		for _, n := range c.Nodes {
			if s := n.Server(); s != nil {
				running = append(running, s)
			}
		}
		leader := false
		for _, s := range running {
			if s.NumRoutes() < len(running)-1 || !s.JetStreamIsCurrent() {
				return false
			}
			leader = leader || s.JetStreamIsLeader()
		}
		return leader
	})
}

// Leader is the node that is the JetStream meta leader now, or nil.
func (c *Cluster) Leader() *Node {
	for _, n := range c.Nodes {
		if s := n.Server(); s != nil && s.JetStreamIsLeader() {
			return n
		}
	}
	return nil
}

// StreamLeader is the node leading stream (in the default account), or nil.
func (c *Cluster) StreamLeader(stream string) *Node {
	for _, n := range c.Nodes {
		if s := n.Server(); s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return n
		}
	}
	return nil
}

// WaitStreamLeader waits until stream has a leader and every running
// replica is current, and returns the leader.
func (c *Cluster) WaitStreamLeader(t testing.TB, stream string) *Node {
	t.Helper()
	var leader *Node
	defer func() {
		if t.Failed() {
			for _, n := range c.Nodes {
				s := n.Server()
				if s == nil {
					t.Logf("natstest: %s stopped", n.Name)
					continue
				}
				t.Logf("natstest: %s routes %d, meta leader %v, stream leader %v, stream current %v", n.Name, s.NumRoutes(),
					s.JetStreamIsLeader(), s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream),
					s.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, stream))
			}
		}
	}()
	waitFor(t, "a leader for stream "+stream, func() bool {
		leader = c.StreamLeader(stream)
		if leader == nil {
			return false
		}
		for _, n := range c.Nodes {
			if s := n.Server(); s != nil && !s.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
				return false
			}
		}
		return true
	})
	return leader
}

// WaitReplicas waits until every running node's own replica of stream
// (in the default account) satisfies cond: a purge or a trim is applied by
// each replica in its own time, and an ordered consumer may be served by
// any of them.
func (c *Cluster) WaitReplicas(t testing.TB, stream string, cond func(server.StreamState) bool) {
	t.Helper()
	waitFor(t, "every replica of stream "+stream, func() bool {
		for _, n := range c.Nodes {
			s := n.Server()
			if s == nil {
				continue
			}
			jsz, err := s.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
			if err != nil {
				return false
			}
			found := false
			for _, a := range jsz.AccountDetails {
				for _, sd := range a.Streams {
					if sd.Name == stream {
						found = true
						if !cond(sd.State) {
							return false
						}
					}
				}
			}
			if !found {
				return false
			}
		}
		return true
	})
}

// RunHubLeaf starts a JetStream hub accepting leaf connections and a leaf
// node (JetStream off, so JetStream requests at the leaf reach the hub's)
// connected out to it, as a site behind NAT would be, and waits until the
// leaf connection is up.
func RunHubLeaf(t testing.TB, hubOpts ...Option) (hub, leaf *Node) {
	t.Helper()
	leafPort := freePort()
	hub = newNode(t, "hub", append([]Option{func(o *server.Options) {
		o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", leafPort
	}}, hubOpts...)...)
	hub.Start()
	remote := &url.URL{Scheme: "nats-leaf", Host: fmt.Sprintf("127.0.0.1:%d", leafPort)}
	leaf = newNode(t, "leaf", WithoutJetStream(), func(o *server.Options) {
		o.LeafNode.ReconnectInterval = 50 * time.Millisecond
		o.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{remote}}}
	})
	leaf.Start()
	WaitLeaf(t, hub, leaf)
	return hub, leaf
}

// WaitLeaf waits until leaf is connected to hub.
func WaitLeaf(t testing.TB, hub, leaf *Node) {
	t.Helper()
	waitFor(t, "the leaf node connection", func() bool {
		h, l := hub.Server(), leaf.Server()
		return h != nil && l != nil && h.NumLeafNodes() > 0 && l.NumLeafNodes() > 0
	})
}

// waitFor polls cond until it holds, failing t after ReadyTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ReadyTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("natstest: no %s within %v", what, ReadyTimeout)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for time to pass
	}
}

// freePort returns a loopback TCP port that was free a moment ago. Nodes
// need fixed ports so that a restarted node is found at its old address.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("natstest: no free port: " + err.Error())
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logger writes a server's log to the test's log.
type logger struct {
	t    testing.TB
	name string
}

func (l *logger) Noticef(format string, v ...any) { l.t.Logf(l.name+" [INF] "+format, v...) }
func (l *logger) Warnf(format string, v ...any)   { l.t.Logf(l.name+" [WRN] "+format, v...) }
func (l *logger) Fatalf(format string, v ...any)  { l.t.Logf(l.name+" [FTL] "+format, v...) }
func (l *logger) Errorf(format string, v ...any)  { l.t.Logf(l.name+" [ERR] "+format, v...) }
func (l *logger) Debugf(format string, v ...any)  { l.t.Logf(l.name+" [DBG] "+format, v...) }
func (l *logger) Tracef(format string, v ...any)  { l.t.Logf(l.name+" [TRC] "+format, v...) }
