package cli

import "github.com/spf13/cobra"

func newServe(g *globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "(not implemented yet)",
		RunE:  func(*cobra.Command, []string) error { return ErrNotImplemented },
	}
}
