// Package buildinfo reports the version, commit and Go version of the
// running binary. Version and Commit are stamped at build time with
//
//	-ldflags "-X github.com/wsbridge/wsbridge/internal/buildinfo.Version=v1.2.3 -X github.com/wsbridge/wsbridge/internal/buildinfo.Commit=abc123"
//
// and otherwise taken from the module and VCS information that `go install`
// and `go build` embed.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// Stamped at build time; see the package doc.
var (
	Version = ""
	Commit  = ""
)

// Info is what `wsbridge version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// String is what `wsbridge version` prints for people.
func (in Info) String() string {
	return fmt.Sprintf("wsbridge %s\ncommit %s\n%s %s", in.Version, in.Commit, in.GoVersion, in.Platform)
}

// Get returns the build information of this binary, worked out once.
var Get = sync.OnceValue(get)

func get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Version, Commit, bi)
}

// resolve works out the version and commit: the -ldflags stamps if given,
// else the module version (go install ...@v1.2.3) and the VCS revision that
// go build and go install embed from a checkout, marked "-dirty" when the
// tree had uncommitted changes; bi may be nil.
func resolve(version, commit string, bi *debug.BuildInfo) Info {
	in := Info{Version: version, Commit: commit, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		if in.Commit == "" {
			in.Commit = vcsCommit(bi.Settings)
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	return in
}

// vcsCommit is the embedded VCS revision, with "-dirty" if the tree was
// modified; "" if none was embedded (go run, -buildvcs=false, no git).
func vcsCommit(settings []debug.BuildSetting) string {
	var rev, dirty string
	for _, s := range settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
