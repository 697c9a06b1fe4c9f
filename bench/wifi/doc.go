// Command wifi benchmarks Wi-Fi boards publishing into one hub: N
// simulated boards (16 kHz i16 mono, 256-sample frames, as the reference
// firmware sends) publish, and one subscriber per board reads its stream,
// through `wsbridge serve` (/pub/<name> in, /ws/<name> out, 30 s of
// history per channel) and, side by side in the same run, through
// Mosquitto (Debian's mosquitto, started by the bench on loopback, MQTT
// QoS 0 and QoS 1, the Go client github.com/eclipse/paho.mqtt.golang),
// the hub users would otherwise set up. It reports the hub's CPU and peak
// RSS, latency p50/p99 (frame made on the board to frame received by the
// subscriber, one clock) and loss, and writes them into
// docs/benchmarks-peers.md ("Wi-Fi boards into one hub").
//
//	go run ./bench/wifi --quick   # 20 boards, 5 s per system
//	go run ./bench/wifi           # 100 boards, 30 s per system
//	go run ./bench/wifi --reps 3  # each system 3 times, interleaved: medians, every run listed
//	go run ./bench/wifi --cut-every 5s  # every board's link reset every 5 s: what each system loses over Wi-Fi drops
//
// The system go-relay is a floor rather than a peer: the bench binary
// started as a minimal Go WebSocket relay (gorelay.go: net/http and
// coder/websocket, a goroutine per connection, every binary message
// written as it is to the subscriber of the same name, nothing checked or
// kept), to show what the Go runtime and a WebSocket library cost per
// frame before anything wsbridge does:
//
//	go run ./bench/wifi --systems wsbridge,go-relay,mosquitto-qos0 --devices 100 --reps 3
//
// With --cut-every the boards' links to the hub go through a proxy in
// the bench (internal/faultproxy) that resets all of them at once that
// often; the subscribers stay connected. Its figures go into a section of
// their own ("Wi-Fi boards whose links drop"), and where frames went
// missing the report says whether inside the streams or at the window's
// ends and what the hub told its subscribers.
//
// The boards and subscribers run in the bench process; their CPU is
// reported apart from the hub's. Linux only (/proc).
package main
