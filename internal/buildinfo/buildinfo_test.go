package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	installed := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}
	cases := []struct {
		name, version, commit string
		bi                    *debug.BuildInfo
		wantVersion, wantRev  string
	}{
		{"go build in a clean checkout", "", "", vcs("98fb0d5", "false"), "dev", "98fb0d5"},
		{"go build with changes", "", "", vcs("98fb0d5", "true"), "dev", "98fb0d5-dirty"},
		{"go install module@v1.2.3", "", "", installed, "v1.2.3", "unknown"},
		{"ldflags win", "v2.0.0", "abc", vcs("98fb0d5", "true"), "v2.0.0", "abc"},
		{"go run, no VCS", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev", "unknown"},
		{"no build info", "", "", nil, "dev", "unknown"},
	}
	for _, c := range cases {
		in := resolve(c.version, c.commit, c.bi)
		if in.Version != c.wantVersion || in.Commit != c.wantRev {
			t.Errorf("%s: version %q commit %q, want %q %q", c.name, in.Version, in.Commit, c.wantVersion, c.wantRev)
		}
	}
}
