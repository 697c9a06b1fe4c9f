package capture

import (
	"context"
	"io"

	"github.com/wsbridge/wsbridge/internal/adcsim"
)

// simConfig is the simulator's configuration (Options.Sim).
type simConfig = adcsim.Config

// simOpener opens the in-process simulator: each open starts a device
// that runs until the port is closed or ctx ends.
func simOpener(cfg simConfig) func(ctx context.Context) (io.ReadWriteCloser, error) {
	return func(ctx context.Context) (io.ReadWriteCloser, error) {
		return adcsim.Open(ctx, cfg)
	}
}
