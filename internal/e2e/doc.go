// Package e2e is the fault and abuse suite of wsbridge: tests that drive
// the whole chain the way the field will (simulated ESP32 on a real pty ->
// serve -> WebSocket -> sink -> virtual serial port -> a reader that opens
// the pty as R does), inject faults at every link, and check what a user
// would check: every sample of the counter signal exactly once, every gap
// reported with its exact range, every abuse answered as documented while
// everyone else keeps being served.
//
// The package has no API; it is only tests (see docs/reliability.md for
// what they try, the figures they report and the command for each):
//
//   - TestNetwork*: sink <-> serve through internal/faultproxy: cuts (FIN
//     and RST), stalls, bandwidth caps, half-open connections.
//   - TestDevice*: unplug/replug cycles with boot garbage, corrupted bytes.
//   - TestLoad*: hundreds of WebSocket clients of mixed formats, some that
//     never read; lateness and memory.
//   - TestAbuse*: oversize, malformed and unexpected messages, floods,
//     tokens, Origin, commands, slow headers.
//   - TestSoak (build tag soak): RSS and goroutines over a long run.
//
// go test ./internal/e2e runs everything but the soak in under a minute;
// -short runs smaller counts. Network is 127.0.0.1 only.
package e2e
