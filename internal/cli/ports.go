package cli

import "github.com/spf13/cobra"

func newPorts(g *globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "ports",
		Short: "(not implemented yet)",
		RunE:  func(*cobra.Command, []string) error { return ErrNotImplemented },
	}
}
