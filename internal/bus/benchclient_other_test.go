//go:build unix && !linux

package bus_test

import "net/http"

// benchHTTPClient: net/http's default elsewhere (internal/pollio's raw
// connections are Linux only).
func benchHTTPClient() *http.Client { return nil }
