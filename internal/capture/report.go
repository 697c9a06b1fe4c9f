package capture

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wsbridge/wsbridge/internal/result"
)

// NoPortsHelp is what `wsbridge ports` prints when there are none.
const NoPortsHelp = "no serial ports found; plug in the board with a data (not charge-only) USB cable, " +
	"check `dmesg` for a new ttyUSB or ttyACM device, and on Linux that its driver is loaded " +
	"(CP210x: cp210x, CH340/CH9102: ch341, FTDI: ftdi_sio, ESP32 native USB: cdc_acm)"

// ReportPorts lists the serial ports to w: a table, or a JSON array when
// asJSON. This is `wsbridge ports`.
func ReportPorts(w io.Writer, asJSON bool) error {
	ports, err := ListPorts()
	if err != nil {
		return err
	}
	return writePorts(w, ports, asJSON)
}

// Ports is the list `wsbridge ports` prints: a table and a hint for
// people (String), a JSON array for scripts.
type Ports []PortInfo

// MarshalJSON writes an empty array, not null, when there are no ports.
func (ps Ports) MarshalJSON() ([]byte, error) {
	return json.Marshal(append([]PortInfo{}, ps...))
}

// String is the table of ports and what serve will do with them.
func (ps Ports) String() string {
	if len(ps) == 0 {
		return NoPortsHelp
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tUSB ID\tSERIAL\tMANUFACTURER / PRODUCT\tESP32?")
	var esp []PortInfo
	for _, p := range ps {
		mark := "-"
		if p.ESP32 {
			mark, esp = "yes: "+p.Chip, append(esp, p)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Path, dash(p.ID()), dash(p.Serial),
			dash(joinNonEmpty(p.Manufacturer, p.Product)), mark)
	}
	tw.Flush()
	b.WriteString(hint(esp))
	b.WriteString(devicesBlock(esp, ps))
	return b.String()
}

// devicesBlock suggests the devices: block of serve's config file for the
// boards found: each matched by its USB identity with its serial number,
// so that two identical boards keep their names across replugs and
// renumbering (ttyUSB0 and ttyUSB1 swap); by path only when nothing else
// tells it apart.
func devicesBlock(esp, all []PortInfo) string {
	if len(esp) == 0 {
		return ""
	}
	same := map[string]int{} // how many ports share an identity
	for _, p := range all {
		same[p.ID()]++
		if p.Serial != "" {
			same[p.ID()+":"+p.Serial]++
		}
	}
	var b strings.Builder
	b.WriteString("\nto serve them together, as channels /ws/board1, ..., in serve --config FILE (name them after what they measure):\n\ndevices:\n")
	for i, p := range esp {
		fmt.Fprintf(&b, "  - name: board%d\n", i+1)
		switch id := p.ID(); {
		case p.Serial != "" && same[id+":"+p.Serial] == 1:
			fmt.Fprintf(&b, "    match: %s:%s   # %s\n", id, p.Serial, p.Path)
		case same[id] == 1:
			fmt.Fprintf(&b, "    match: %s   # %s; no serial number: another board like it would need port:\n", id, p.Path)
		default:
			fmt.Fprintf(&b, "    port: %s   # no serial number tells it from the other %s boards: by path, which can change on replug\n", p.Path, id)
		}
	}
	return b.String()
}
func writePorts(w io.Writer, ports []PortInfo, asJSON bool) error {
	return result.Print(w, asJSON, Ports(ports))
}

// hint says what serve will do with these ports.
func hint(esp []PortInfo) string {
	switch len(esp) {
	case 0:
		return "\nno likely ESP32 board: pass the port explicitly, e.g. wsbridge serve --port PATH\n"
	case 1:
		return fmt.Sprintf("\nwsbridge serve will use %s when run without --port\n", esp[0].Path)
	}
	return fmt.Sprintf("\n%d likely ESP32 boards: choose one with --port PATH or --match VID:PID[:SERIAL]\n", len(esp))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " / " + b
}
