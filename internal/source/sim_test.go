package source_test

import (
	"testing"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/source"
	"github.com/wsbridge/wsbridge/internal/source/sourcetest"
)

func simCounter(wire string) adcsim.Config {
	c := adcsim.DefaultConfig()
	c.Signal, c.Rate, c.Channels, c.SampleType, c.Wire, c.Seed = "counter", 16000, 2, "i16", wire, 1
	return c
}

// The simulator passes the one conformance suite every source passes, on
// both its wires.
func TestSimConformance(t *testing.T) {
	for _, wire := range []string{adcsim.WireFrames, adcsim.WireText} {
		t.Run(wire, func(t *testing.T) {
			sourcetest.Run(t, sourcetest.Kind{Name: "simulator", Generator: true,
				New: func(t *testing.T) (source.Source, sourcetest.Device) {
					s, err := source.NewSim(simCounter(wire))
					if err != nil {
						t.Fatal(err)
					}
					return s, nil
				}})
		})
	}
}
