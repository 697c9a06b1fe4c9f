package sink

// The pty's owner group is read with syscall.Stat_t, which Windows lacks.

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestVirtualGroupMakesPtyGroupReadable(t *testing.T) {
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Skipf("no name for gid %d: %v", os.Getgid(), err)
	}
	ts := newTServer(t, false)
	r := startSink(t, ts.url(), func(o *Options) { o.VirtualGroup = g.Name })
	fi, err := os.Stat(r.info.Name)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o660 || int(st.Gid) != os.Getgid() {
		t.Errorf("%s: mode %v gid %d, want 0660 and gid %d", r.info.Name, fi.Mode().Perm(), st.Gid, os.Getgid())
	}
	o := DefaultOptions()
	o.URL, o.Virtual, o.VirtualGroup = ts.url(), filepath.Join(t.TempDir(), "tty"), "no-such-group-wsbridge"
	if err := Run(t.Context(), o); !errors.Is(err, ErrOutput) || !strings.Contains(err.Error(), `--virtual-group "no-such-group-wsbridge"`) {
		t.Errorf("unknown group: %v", err)
	}
}
