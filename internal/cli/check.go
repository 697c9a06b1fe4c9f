package cli

import (
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/config"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// configurable reports whether a flag is a setting (a config key and a
// WSBRIDGE_* variable) rather than a one-off action.
func configurable(name string) bool {
	return !strings.HasPrefix(name, "help") && name != "config" && name != "check" &&
		name != "device" // a list of specs with commas: the config file's devices: carries them
}

// secret reports whether a setting must not be printed.
func secret(name string) bool { return name == "token" }

// addCheck gives cmd a --check flag: validate the effective configuration
// (defaults, file, environment, flags), print it as YAML on stdout with
// secrets redacted, and exit without starting. validate runs on the
// options the flags are bound to; more, if any, prints what the flags do
// not hold (serve's devices:) after them.
func addCheck(cmd *cobra.Command, s Streams, validate func() error, more ...func(io.Writer) error) {
	var check bool
	cmd.Flags().BoolVar(&check, "check", false, "validate the configuration, print the effective settings as YAML and exit without starting")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !check {
			return run(c, args)
		}
		if err := validate(); err != nil {
			return classifyCheck(err)
		}
		if err := config.Dump(s.Out, c.Flags(), configurable, secret); err != nil {
			return err
		}
		for _, m := range more {
			if err := m(s.Out); err != nil {
				return err
			}
		}
		return nil
	}
}

// classifyCheck keeps the exit code validate chose (serve's check also
// reports device and network errors, 3 and 4) and makes the rest usage
// errors (2).
func classifyCheck(err error) error {
	for _, class := range []error{ErrUsage, ErrDevice, ErrNetwork} {
		if errors.Is(err, class) {
			return err
		}
	}
	return sentinel.Tag(err, ErrUsage)
}
