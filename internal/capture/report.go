package capture

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
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

func writePorts(w io.Writer, ports []PortInfo, asJSON bool) error {
	if asJSON {
		if ports == nil {
			ports = []PortInfo{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ports)
	}
	if len(ports) == 0 {
		_, err := fmt.Fprintln(w, NoPortsHelp)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tUSB ID\tSERIAL\tMANUFACTURER / PRODUCT\tESP32?")
	var esp []PortInfo
	for _, p := range ports {
		mark := "-"
		if p.ESP32 {
			mark, esp = "yes: "+p.Chip, append(esp, p)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Path, dash(p.ID()), dash(p.Serial),
			dash(joinNonEmpty(p.Manufacturer, p.Product)), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeHint(w, esp)
}

// writeHint says what serve will do with these ports.
func writeHint(w io.Writer, esp []PortInfo) error {
	var err error
	switch len(esp) {
	case 0:
		_, err = fmt.Fprintln(w, "\nno likely ESP32 board: pass the port explicitly, e.g. wsbridge serve --port PATH")
	case 1:
		_, err = fmt.Fprintf(w, "\nwsbridge serve will use %s when run without --port\n", esp[0].Path)
	default:
		_, err = fmt.Fprintf(w, "\n%d likely ESP32 boards: choose one with --port PATH or --match VID:PID[:SERIAL]\n", len(esp))
	}
	return err
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
