package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/buildinfo"
)

func newVersion(s Streams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			in := buildinfo.Get()
			if asJSON {
				return json.NewEncoder(s.Out).Encode(in)
			}
			_, err := fmt.Fprintf(s.Out, "wsbridge %s\ncommit %s\n%s %s\n", in.Version, in.Commit, in.GoVersion, in.Platform)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
