package source

import "github.com/wsbridge/wsbridge/internal/frame"

// counter is a Counter of a count.
func counter(name, help string, v uint64) Counter {
	return Counter{Name: name, Help: help, Value: float64(v)}
}

// DecoderCounters are the counters of a byte stream decoded as a serial
// line carries it (frame.Decoder or frame.TextDecoder), under the names
// /metrics gives a serial port's: a serial port and the simulator report
// the same ones.
func DecoderCounters(s frame.Stats) []Counter {
	return []Counter{
		counter("serial_bytes_total", "Bytes read from the serial port.", s.Bytes),
		counter("serial_packets_total", "Valid packets decoded (any type).", s.Packets),
		counter("serial_frames_total", "Valid data frames decoded.", s.Frames),
		counter("serial_noise_bytes_total", "Bytes rejected by the decoder (garbage, boot logs, broken packets).", s.NoiseBytes),
		counter("serial_crc_errors_total", "Packets dropped for a failed CRC-32C.", s.CRCErrors),
		counter("serial_malformed_total", "Packets dropped for a bad length, type or field; text input: lines dropped because their fields did not fit the channels.", s.Malformed),
		counter("serial_oversize_total", "Runs longer than the largest packet, dropped.", s.Oversize),
	}
}

// CommandCounters are the counters of a source's command writer.
func CommandCounters(written, failed uint64) []Counter {
	return []Counter{
		counter("device_commands_total", "Command lines written to the device.", written),
		counter("device_command_errors_total", "Command lines that failed to write.", failed),
	}
}
