package cli

import (
	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/buildinfo"
	"github.com/wsbridge/wsbridge/internal/result"
)

func newVersion(g *globals, s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return result.Print(s.Out, g.JSON, buildinfo.Get())
		},
	}
	return cmd
}
