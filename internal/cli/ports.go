package cli

import (
	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

func newPorts(g *globals, s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ports",
		Short: "List serial ports and mark likely ESP32 boards",
		Long: `List the serial ports with their USB identity (VID:PID), serial number,
manufacturer and product, and mark the USB-serial bridges found on ESP32
boards (CP210x, CH340, CH9102, FTDI, ESP32 native USB).

Use the path with serve --port, or the identity with serve --match VID:PID[:SERIAL]
to follow the board when it comes back under another name.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return sentinel.Tag(capture.ReportPorts(s.Out, g.JSON), ErrDevice)
		},
	}
	return cmd
}
