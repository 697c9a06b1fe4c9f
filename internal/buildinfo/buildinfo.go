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
	in := Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && in.Commit == "" {
				in.Commit = s.Value
			}
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
