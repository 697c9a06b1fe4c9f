// Package frame implements the wsbridge v1 wire format: the binary packet
// that carries a block of ADC samples (and device info, log text and command
// replies) from the device to every consumer.
//
// One layout serves every hop. On the serial line each packet is COBS-encoded
// and terminated by a 0x00 delimiter, so a reader that starts mid-stream, or
// after garbage such as the ESP32 ROM boot log, resynchronises at the next
// delimiter. In a WebSocket binary message the same packet bytes travel
// without COBS. docs/protocol.md specifies every byte.
//
// Entry points:
//
//   - AppendFrame, AppendInfo, AppendText build packets; AppendCOBS and
//     AppendSerial wrap them for the serial line.
//   - Parse validates one decoded packet (length, CRC-32C) into a Packet.
//   - Decoder is the streaming, push-style decoder for the serial line: Write
//     bytes as they arrive and it calls back once per valid packet, counting
//     noise, CRC failures and oversize packets in Stats. It passes every
//     valid frame on as read: sequence numbers are the receiver's to follow.
//   - TextDecoder turns Arduino-style text lines (one sample instant per line)
//     into data frames with host-assigned sequence numbers and timestamps.
//   - SeqTracker classifies sequence numbers as in order, gap, duplicate or
//     restart, for every stage that must report loss; SeqBefore is the one
//     modular comparison of two sequence numbers.
//   - AppendEnvelopeOf computes an envelope (packet type 0x05: the min and
//     max of every N sample instants of a run of frames, what serve sends
//     to ?envelope=N clients); AppendEnvelope, ParseEnvelope and
//     AppendEnvelopeJSON encode, decode and render it.
//   - AppendCSV, AppendPlain, AppendPlotter and AppendJSON render frames for
//     the sink's serial output and for text WebSocket clients.
//
// Nothing in this package allocates per frame in steady state: packets handed
// to callbacks alias the decoder's buffers and are valid only during the call.
// Use Packet.Clone to keep one.
package frame
