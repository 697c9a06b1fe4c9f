package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsbridge/wsbridge/internal/config"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// flagError turns pflag's parse errors into usage errors a person can act
// on: a bad value says what the flag wants (--sim-rate "-5": want a whole
// number from 0 to 4294967295), an unknown flag suggests the one meant.
func flagError(cmd *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		if want := config.ValueHelp(bad.GetFlag()); want != "" {
			return Usagef("--%s %q: want %s", bad.GetFlag().Name, bad.GetValue(), want)
		}
		return Usagef("--%s %q: %v", bad.GetFlag().Name, bad.GetValue(), errors.Unwrap(err))
	}
	var unknown *pflag.NotExistError
	if errors.As(err, &unknown) && unknown.GetSpecifiedName() != "" {
		name := unknown.GetSpecifiedName()
		if best := config.Closest(cmd.Flags(), name, func(string) bool { return true }); best != "" {
			return Usagef("%v (did you mean --%s?)", err, best)
		}
	}
	return Usagef("%v", err)
}

// nameOrigins rewrites an error about a setting that came from the
// environment or the config file so that it names where it was set:
// `--slow-client "kick": ...` becomes `WSBRIDGE_SLOW_CLIENT "kick": ...`
// or `slow-client (serve.yaml line 3) "kick": ...`. The error still
// matches what it matched (errors.Is).
func nameOrigins(err error, origins config.Origins) error {
	if err == nil || len(origins) == 0 {
		return err
	}
	msg := err.Error()
	for name, origin := range origins {
		if strings.Contains(msg, config.EnvName("WSBRIDGE_", name)) {
			continue // the message already names both ("check --token (or WSBRIDGE_TOKEN)")
		}
		re := regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `\b([^-]|$)`)
		where := origin
		if !strings.HasPrefix(origin, config.EnvName("WSBRIDGE_", "")) {
			where = fmt.Sprintf("%s (%s)", name, origin)
		}
		msg = re.ReplaceAllStringFunc(msg, func(m string) string { return where + m[len(name)+2:] })
	}
	if msg == err.Error() {
		return err
	}
	return sentinel.Tag(errors.New(msg), err)
}
