// Package wifisim is a simulated ESP32 on Wi-Fi: the in-process simulated
// ADC (package adcsim) behind the firmware's resend ring (ingest.Ring),
// publishing to serve's /pub/<name> over WebSocket the way the reference
// sketch firmware-ref/examples/wifi_ws_frames does with arduinoWebSockets.
// It is what `wsbridge sim --publish URL` runs, and what the tests and
// benchmarks use as a Wi-Fi board.
//
// Like the library it imitates, a Board reconnects at a fixed interval
// (setReconnectInterval, 500 ms by default; no backoff), optionally pings
// the server and drops the connection after missed pongs
// (enableHeartbeat), gives up a send that blocks for 5 s, and refuses
// incoming messages over 15 KiB. After each connect it waits for serve's
// greeting, sends its device info, resends from its ring what serve does
// not have, and streams live frames; frames made while the link is slow or
// down wait in the ring. Commands from serve (text messages) go to the
// simulated device, whose replies go back as reply packets.
//
// Faults (Options.Faults) run the connection through an in-process
// faultproxy: periodic cuts, stalls and reconnect storms.
//
// Entry points: New(Options) and Board.Run; Board.Stats for exact counts.
package wifisim
