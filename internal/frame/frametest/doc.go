// Package frametest holds the golden table of v1 packets that every
// decoder and encoder of the wire format must agree on, in every language
// (mochi-mqtt's packets/tpackets.go is the model).
//
// Entry points:
//
//   - Golden: good packets, each with its fields, samples, packet bytes
//     and serial bytes. Encoders must produce the bytes; decoders the rest.
//   - Failing: malformed inputs, each with the frame sentinel every decoder
//     must refuse it with (Bad.Err, named for other languages by Bad.Kind
//     and KindOf), the layer the fault is in, and, where an encoder could be
//     asked to build it, the packet encoders must refuse (Bad.Refuse).
//   - JSON: both tables as golden.json (checked in next to this file and
//     kept current by its test), which the page's JavaScript and the client
//     examples read.
//   - Collector: a Decoder's callback that keeps the packets and the seq
//     events a receiver would see.
//
// Who runs them: internal/frame (Parse, DecodeCOBS, the streaming Decoder,
// the encoders), the simulator, capture, the page (internal/web), the
// Python, JavaScript and R examples (examples/clients) and the firmware's C
// encoder (firmware-ref/conformance).
package frametest
