package cli

import "github.com/spf13/cobra"

func newSink(g *globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "sink",
		Short: "(not implemented yet)",
		RunE:  func(*cobra.Command, []string) error { return ErrNotImplemented },
	}
}
