package bus_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"gopkg.in/yaml.v3"

	"github.com/wsbridge/wsbridge/internal/bus"
)

// The configuration files docs/bus.md starts the bus with are read by
// nats-server's own parser and wsbridge's, and say what the guide says.
func TestConfigFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "configs", "bus")
	var routes []string
	for _, n := range []string{"n1", "n2", "n3"} {
		o, err := server.ProcessConfigFile(filepath.Join(dir, n+".conf"))
		if err != nil {
			t.Fatal(err)
		}
		if o.ServerName != n || !o.JetStream || o.JetStreamDomain != "hub" || o.Cluster.Name != "wsbridge" ||
			len(o.Routes) != 3 || o.LeafNode.Port == 0 || o.StoreDir != "/var/lib/nats/"+n {
			t.Fatalf("%s.conf: %+v", n, o)
		}
		routes = append(routes, o.Cluster.Host+":"+strconv.Itoa(o.Cluster.Port))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(routes)))) != 3 {
		t.Fatalf("cluster listeners %v: want three different ones", routes)
	}
	leaf, err := server.ProcessConfigFile(filepath.Join(dir, "leaf-site.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if leaf.JetStream || len(leaf.LeafNode.Remotes) != 1 || len(leaf.LeafNode.Remotes[0].URLs) != 3 {
		t.Fatalf("leaf-site.conf: JetStream %v, remotes %+v", leaf.JetStream, leaf.LeafNode.Remotes)
	}

	for _, f := range []string{"serve-site.yaml", "serve-front-a.yaml", "serve-front-b.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var c bus.Config
		n := doc["bus"]
		if err := bus.ReadSection(&n, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.Defaults()
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f == "serve-site.yaml" && (c.Domain != "hub" || c.Stream.Replicas != 3 || !strings.HasSuffix(c.URL[0], ":4250")) {
			t.Fatalf("%s: %+v", f, c)
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"n1", "n2", "n3", "leaf", "site", "front-a", "front-b"} {
		svc, ok := compose.Services[s]
		if !ok {
			t.Fatalf("compose.yaml has no service %s", s)
		}
		for _, v := range svc.Volumes {
			if src, _, _ := strings.Cut(v, ":"); strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Fatalf("compose.yaml service %s mounts %s: %v", s, src, err)
				}
			}
		}
	}
}
