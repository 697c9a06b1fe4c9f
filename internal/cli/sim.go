package cli

import "github.com/spf13/cobra"

func newSim(g *globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "sim",
		Short: "A simulated ESP32 (not implemented yet)",
		RunE:  func(*cobra.Command, []string) error { return ErrNotImplemented },
	}
}
