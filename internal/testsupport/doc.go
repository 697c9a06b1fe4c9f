// Package testsupport holds the helpers that tests in several packages
// share. It is ordinary (non-test) code because Go cannot import another
// package's _test.go files; only test binaries import it.
//
// Entry points:
//
//   - WaitFor and Within poll a condition with a deadline.
//   - SyncBuffer is an output buffer safe for a writer and readers at once;
//     its LogEntries and WaitLogEntries read zerolog's JSON lines.
//   - TCPPair is a loopback TCP connection's two ends.
//   - SelfSigned writes a certificate and key for 127.0.0.1.
//   - OpenSlave opens a pty's slave end as a serial port user does (Unix).
//   - GetJSON reads a JSON document over HTTP.
//   - Dial connects a WebSocket client; ExpectHello reads the hello that
//     wsbridge sends first.
//   - StartServe runs `wsbridge serve` (serve.Run, given as a function so
//     that serve's own tests can use it) and returns its URLs as a Served.
//   - ReadWAV parses a WAV file a recording wrote and checks it is complete.
//   - RunR runs an R script; ReadLinesR has R read a port with the
//     README's base R recipe.
//
// Every helper takes a testing.TB, fails the test on error and closes what
// it opened at the test's cleanup.
package testsupport
