package frame

import "testing"

func TestSimplestRate(t *testing.T) {
	for _, c := range []struct {
		est, margin float64
		want        uint32
	}{
		{999.8, 0.3, 1000},  // within the error of 1000
		{1000.4, 0.1, 1000}, // the ±0.5 Hz of rounding
		{997.3, 0.1, 997},   // a real delay(1) loop stays what it is
		{15991, 17, 16000},  // a bursty 16 kHz stream
		{15650, 500, 15700}, // a noisy estimate moves by at most RateTolerance/4 (0.5%): not to 16000
		{15991, 500, 16000}, // which 16000 is within
		{44087, 30, 44100},  // 44.1 kHz
		{47990, 30, 48000},  // 48 kHz
		{10.02, 0.01, 10},   // 10 Hz
		{1234.4, 0.2, 1234}, // no simpler value within reach
		{0.3, 0.1, 0},       // below 1 Hz: unknown
		{1.2, 0.1, 1},       // 1 Hz
		{2e9, 1e6, 2000000000},
	} {
		if got := simplestRate(c.est, c.margin); got != c.want {
			t.Errorf("simplestRate(%v, %v) = %d, want %d", c.est, c.margin, got, c.want)
		}
	}
}
