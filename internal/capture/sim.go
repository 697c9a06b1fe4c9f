package capture

import (
	"context"
	"errors"
	"io"
)

// simConfig is a placeholder until internal/adcsim lands.
type simConfig struct{}

func simOpener(cfg simConfig) func(ctx context.Context) (io.ReadWriteCloser, error) {
	return func(context.Context) (io.ReadWriteCloser, error) {
		return nil, errors.New("simulator not available")
	}
}
