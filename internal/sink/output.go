package sink

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"

	"go.bug.st/serial"

	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/vport"
)

// PortInfo describes the output port, for the user and for tests.
type PortInfo struct {
	Name    string // the device path to open: /dev/pts/5 or /dev/ttyUSB1
	Link    string // --virtual symlink, or ""
	Virtual bool
	Baud    int
}

// outPort is the output port: written by the writer goroutine, read by
// the upstream goroutine, closed once by Run.
type outPort interface {
	io.ReadWriteCloser
}

// openOutput creates the virtual port or opens the real one.
func openOutput(o *Options) (outPort, PortInfo, error) {
	if o.Virtual != "" {
		p, err := vport.Create(o.Virtual)
		if err != nil {
			return nil, PortInfo{}, fmt.Errorf("%w: %w", ErrOutput, virtualError(o.Virtual, err))
		}
		if err := shareWithGroup(p.Name(), o.VirtualGroup); err != nil {
			p.Close()
			return nil, PortInfo{}, fmt.Errorf("%w: %w", ErrOutput, err)
		}
		return p, PortInfo{Name: p.Name(), Link: p.Link(), Virtual: true, Baud: o.Baud}, nil
	}
	p, err := openReal(o.Port, &serial.Mode{BaudRate: o.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, PortInfo{}, fmt.Errorf("%w: %w", ErrOutput, serialError(o.Port, err))
	}
	return p, PortInfo{Name: o.Port, Baud: o.Baud}, nil
}

// virtualError says what to do when --virtual cannot be created, naming
// the flag.
func virtualError(path string, err error) error {
	var inUse *vport.InUseError
	switch {
	case errors.As(err, &inUse):
		who := "another wsbridge sink or sim"
		if inUse.Pid > 0 {
			who += fmt.Sprintf(" (pid %d)", inUse.Pid)
		}
		return sentinel.Errorf(vport.ErrInUse, "--virtual %s is in use by %s: stop it first, or choose another --virtual path", path, who)
	case errors.Is(err, vport.ErrNotSymlink):
		return sentinel.Errorf(vport.ErrNotSymlink, "--virtual %s: %s exists and is not a symlink (a file there is never overwritten): remove it or choose another --virtual path", path, path)
	case errors.Is(err, vport.ErrUnsupported):
		return fmt.Errorf("--virtual: %w", err)
	}
	return fmt.Errorf("failed to create virtual port %s: %w", path, err)
}

// shareWithGroup gives group read and write access to the pty at name, so
// that R can run as another user (a pty is private to its creator).
func shareWithGroup(name, group string) error {
	if group == "" {
		return nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return fmt.Errorf("--virtual-group %q: %w", group, err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(name, -1, gid); err != nil {
		return fmt.Errorf("failed to give %s to group %s (the sink's user must be a member): %w", name, group, err)
	}
	if err := os.Chmod(name, 0o660); err != nil {
		return fmt.Errorf("failed to make %s group-readable: %w", name, err)
	}
	return nil
}

// serialError makes an open failure actionable.
func serialError(name string, err error) error {
	var pe *serial.PortError
	code := serial.PortErrorCode(-1)
	if errors.As(err, &pe) {
		code = pe.Code()
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) || code == serial.PortNotFound:
		return fmt.Errorf("failed to open %s: not found: check the name (wsbridge ports lists them): %w", name, err)
	case errors.Is(err, fs.ErrPermission) || code == serial.PermissionDenied:
		return fmt.Errorf("permission denied opening %s: add your user to the dialout group (sudo usermod -aG dialout $USER, then log in again): %w", name, err)
	case code == serial.PortBusy:
		return fmt.Errorf("failed to open %s: busy: another program (a serial monitor, ModemManager) holds it: %w", name, err)
	}
	return fmt.Errorf("failed to open %s: %w", name, err)
}

// howToOpen is what Run prints first: the port and the R lines that read it.
func howToOpen(pi PortInfo, o *Options) string {
	var b strings.Builder
	mode := fmt.Sprintf("%d,n,8,1", pi.Baud)
	if pi.Virtual {
		rel := strings.TrimPrefix(pi.Name, "/dev/")
		fmt.Fprintf(&b, "wsbridge sink: writing %s from %s to virtual serial port %s", o.Format, o.shownURL(), pi.Name)
		if pi.Link != "" {
			fmt.Fprintf(&b, " (link %s)", pi.Link)
		}
		fmt.Fprintf(&b, "\n\nRead it in R, base R (fastest; the link works too):\n")
		fmt.Fprintf(&b, "  con <- file(%q, open = \"r\", raw = TRUE, blocking = FALSE)\n", pi.Name)
		fmt.Fprintf(&b, "  x <- readLines(con)   # call repeatedly: returns the complete lines that have arrived\n")
		fmt.Fprintf(&b, "or with the CRAN serial package (it prefixes /dev/ itself):\n")
		fmt.Fprintf(&b, "  con <- serial::serialConnection(port = %q, mode = %q, translation = \"binary\")\n", rel, mode)
		fmt.Fprintf(&b, "  open(con); x <- serial::read.serialConnection(con, n = 4096)   # raw bytes: lines <- strsplit(rawToChar(x), \"\\n\")[[1]]\n")
		fmt.Fprintf(&b, "or the R package (r/wsbridge in the repository): library(wsbridge)\n")
		fmt.Fprintf(&b, "  d <- wsbridge_read(%q, n_max = 10000); wsbridge_gaps(d)   # the rows, and where data is missing\n", linkOr(pi))
		return b.String()
	}
	fmt.Fprintf(&b, "wsbridge sink: writing %s from %s to serial port %s at %s\n\n", o.Format, o.shownURL(), pi.Name, mode)
	fmt.Fprintf(&b, "Wire it null-modem to the port R opens (say ttyUSB0 on the R machine), then in R:\n")
	fmt.Fprintf(&b, "  con <- serial::serialConnection(port = \"ttyUSB0\", mode = %q, translation = \"binary\")\n", mode)
	fmt.Fprintf(&b, "  open(con); x <- serial::read.serialConnection(con, n = 4096)   # raw bytes: lines <- strsplit(rawToChar(x), \"\\n\")[[1]]\n")
	fmt.Fprintf(&b, "or base R after: stty -F /dev/ttyUSB0 %d raw -echo\n", pi.Baud)
	fmt.Fprintf(&b, "  con <- file(\"/dev/ttyUSB0\", open = \"r\", raw = TRUE, blocking = FALSE); x <- readLines(con)\n")
	return b.String()
}

func linkOr(pi PortInfo) string {
	if pi.Link != "" {
		return pi.Link
	}
	return pi.Name
}
