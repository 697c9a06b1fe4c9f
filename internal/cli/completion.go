package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/adcsim"
	"github.com/wsbridge/wsbridge/internal/capture"
	"github.com/wsbridge/wsbridge/internal/procs"
	"github.com/wsbridge/wsbridge/internal/record"
	"github.com/wsbridge/wsbridge/internal/relay"
	"github.com/wsbridge/wsbridge/internal/sink"
	"github.com/wsbridge/wsbridge/internal/wifisim"
)

// choices are the values of the flags that take one of a few words, for
// shell completion (`wsbridge completion bash|zsh|fish|powershell`): by
// command, "" for the flags every command has. Each value may carry a
// description after a tab.
var choices = map[string]map[string][]string{
	"": {
		"log-level":  {"debug", "info", "warn", "error"},
		"log-format": {"auto\tconsole on a terminal, JSON otherwise", "console", "json"},
	},
	"serve": merge(portChoices, simChoices("sim-"), map[string][]string{
		"slow-client": {relay.SlowSkip + "\tsend a gap and jump ahead", relay.SlowClose + "\tclose with 1008"},
		"procs":       {procs.Auto, "1", "2", "4"},
	}),
	"sim": merge(simChoices(""), map[string][]string{
		"publish-format": {"v1\tbinary frames through the resend ring", wifisim.FormatText, wifisim.FormatJSON},
	}),
	"sink": {
		"format":      {sink.FormatCSV, sink.FormatPlain, sink.FormatPlotter, sink.FormatRaw + "\tthe device's v1 COBS packets"},
		"when-full":   {sink.DropOldest + "\tkeep recent data", sink.DropNewest, sink.Block + "\tstop reading"},
		"input":       {"auto", "v1", "text", "json"},
		"line-ending": {"lf", "crlf"},
		"gap-lines":   {"auto", "true", "false"},
		"parity":      portChoices["parity"],
	},
	"record": {
		"format": {record.FormatAuto + "\twav for audio-rate i16/i32/f32, csv otherwise", record.FormatWAV, record.FormatCSV},
		"on-gap": {record.GapSplit + "\tnew file", record.GapZero + "\tfill with silence or empty rows", record.GapKeep + "\twrite on"},
	},
}

// portChoices are the serial settings serve takes (--port and --match
// complete from the ports present: portValues).
var portChoices = map[string][]string{
	"input":     {capture.InputAuto, capture.InputFrames + "\tCOBS v1 packets", capture.InputText + "\tlines of numbers"},
	"parity":    {"none", "odd", "even", "mark", "space"},
	"stop-bits": {"1", "1.5", "2"},
	"data-bits": {"8", "7", "6", "5"},
	"dtr":       {capture.LineAuto, capture.LineOn, capture.LineOff, capture.LineKeep},
	"rts":       {capture.LineAuto, capture.LineOn, capture.LineOff, capture.LineKeep},
}

// simChoices are the simulator's, its flags named with prefix.
func simChoices(prefix string) map[string][]string {
	return map[string][]string{
		prefix + "signal":      {"sine", "square", "saw", "noise", "chirp", "counter", "wav:\ta 16-bit PCM file, looped"},
		prefix + "sample-type": {"u16", "i16", "i32", "f32"},
		prefix + "wire":        {adcsim.WireFrames, adcsim.WireText, adcsim.WirePlotter},
	}
}

func merge(ms ...map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// listPorts lists the serial ports for completion; tests replace it.
var listPorts = capture.ListPorts

// portFlags complete from the ports present: the path, or the identity.
var portFlags = map[string]map[string]func(capture.PortInfo) string{
	"serve": {"port": portPath, "match": portIdentity},
	"sink":  {"port": portPath},
}

func portPath(p capture.PortInfo) string { return p.Path }

func portIdentity(p capture.PortInfo) string {
	if !p.USB {
		return ""
	}
	if p.Serial != "" {
		return p.ID() + ":" + p.Serial
	}
	return p.ID()
}

// addCompletions registers the completions of every command's flags.
func addCompletions(root *cobra.Command) {
	for _, cmd := range append(root.Commands(), root) {
		for name, values := range merge(choices[""], choices[cmd.Name()]) {
			register(cmd, name, fixed(values))
		}
		for name, value := range portFlags[cmd.Name()] {
			register(cmd, name, portValues(value))
		}
	}
}

// register adds a completion for flag name if cmd has it.
func register(cmd *cobra.Command, name string, f cobra.CompletionFunc) {
	if cmd.Flags().Lookup(name) != nil || cmd.PersistentFlags().Lookup(name) != nil {
		_ = cmd.RegisterFlagCompletionFunc(name, f)
	}
}

func fixed(values []string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// portValues completes from the serial ports present, likely ESP32 boards
// first, each described as `wsbridge ports` describes it.
func portValues(value func(capture.PortInfo) string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ports, err := listPorts()
		if err != nil {
			return nil, cobra.ShellCompDirectiveDefault // fall back to file names
		}
		var esp, other []cobra.Completion
		for _, p := range ports {
			v := value(p)
			if v == "" {
				continue
			}
			desc := strings.Trim(strings.TrimPrefix(p.Summary(), p.Path), " ()")
			if p.ESP32 {
				esp = append(esp, cobra.CompletionWithDesc(v, "ESP32? "+desc))
			} else {
				other = append(other, cobra.CompletionWithDesc(v, desc))
			}
		}
		return append(esp, other...), cobra.ShellCompDirectiveNoFileComp
	}
}
