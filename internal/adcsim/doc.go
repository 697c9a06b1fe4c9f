// Package adcsim is a simulated ESP32 ADC: a device that generates samples
// of a test signal in real time at an exact rate and sends them the way the
// firmware does, as v1 frames (internal/frame) or as Arduino-style text,
// answers the text commands rate N, start, stop and info, and injects the
// faults that real hardware has (ROM boot garbage, corrupted bytes, USB
// unplugs).
//
// Entry points:
//
//   - Config, DefaultConfig and Config.Validate describe the device.
//   - NewDevice and Device.Run run a device on any io.ReadWriter.
//   - Open runs a device on an in-process port (serve --sim).
//   - Serve runs a device on a virtual serial port (vport) or stdout, with
//     simulated unplugs: what `wsbridge sim` does.
//
// Timing: frame k is written when its last sample is due, at
// start + (samples so far)/rate on the monotonic clock, so there is no drift
// however long it runs. If output falls behind real time by more than
// Config.MaxLag (nobody reads the port, or --baud is too slow for the data)
// the device drops whole frames, advancing seq as a real device whose
// transmit buffer overflows does, and counts them in Stats.Dropped.
//
// The counter signal makes every loss visible: the sample at running index i
// on channel c is (i + c) modulo the sample type's range (int16(i+c) for i16,
// uint16 for u16, int32 for i32, (i+c) mod 2^24 for f32). Seq starts at 0.
//
// Stats are exact, so tests can compare what a receiver lost with what the
// device dropped, corrupted or generated while unplugged.
package adcsim
