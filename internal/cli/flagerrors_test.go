package cli

import (
	"errors"
	"testing"

	"github.com/wsbridge/wsbridge/internal/config"
)

// TestNameOriginsNamesWhereTheValueCameFrom: a setting from the
// environment or a file is named as the user set it, and a message that
// already names the variable is left as it is ("check WSBRIDGE_TOKEN (or
// WSBRIDGE_TOKEN)" was the rewrite's result before).
func TestNameOriginsNamesWhereTheValueCameFrom(t *testing.T) {
	origins := config.Origins{"slow-client": "WSBRIDGE_SLOW_CLIENT", "history": "serve.yaml line 3", "token": "WSBRIDGE_TOKEN"}
	for in, want := range map[string]string{
		`--slow-client "kick": want skip or close`:                         `WSBRIDGE_SLOW_CLIENT "kick": want skip or close`,
		`--history must be positive, got 0s`:                               `history (serve.yaml line 3) must be positive, got 0s`,
		`the token is missing or wrong: check --token (or WSBRIDGE_TOKEN)`: `the token is missing or wrong: check --token (or WSBRIDGE_TOKEN)`,
	} {
		if got := nameOrigins(errors.New(in), origins).Error(); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
