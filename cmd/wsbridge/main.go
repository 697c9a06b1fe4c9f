// Command wsbridge carries live sensor data from an ESP32 on a USB serial
// port to WebSocket clients and back into a serial port on another machine.
// See README.md, or run `wsbridge --help`.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsbridge/wsbridge/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(err, os.Stderr))
}

// run executes the command line args; every error returns here.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return cli.Execute(ctx, args, cli.Streams{In: stdin, Out: stdout, Err: stderr})
}
