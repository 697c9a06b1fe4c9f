// Package conformance holds the test that proves the firmware's C encoder
// (firmware-ref/wsbridge_frame.h) and command parser (wsbridge_cmd.h) agree
// byte for byte with the Go codec in internal/frame.
//
// It has no code of its own: conformance_test.go compiles
// testdata/wsb_host.c with the host's gcc (-std=c99 -Wall -Wextra -Werror
// -O2) once per CRC-32C implementation (bitwise, 16-entry and 256-entry
// table), drives it over stdin/stdout, and checks its output against the
// golden table (internal/frame/frametest), the Go encoders, and the Go
// streaming Decoder; the C encoder must refuse the packets of the table's
// failing cases that an encoder could be asked to build (unknown sample
// type, payload size against the header, no channels, oversize, more
// channel names than channels). Without gcc the tests skip and say so.
//
// Run: go test ./firmware-ref/...
package conformance
