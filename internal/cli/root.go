package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/wsbridge/wsbridge/internal/buildinfo"
	"github.com/wsbridge/wsbridge/internal/config"
	"github.com/wsbridge/wsbridge/internal/sentinel"
)

// Streams are the standard streams a command uses: results to Out,
// diagnostics (zerolog) to Err.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// globals are the persistent flags every command has.
type globals struct {
	LogLevel  string
	LogFormat string
	Config    string
	JSON      bool // --json: results as JSON (result.Print)
	log       zerolog.Logger
	started   bool                                         // PersistentPreRunE ran: errors from here on are the command's own
	origins   config.Origins                               // where settings not given as flags came from
	sections  map[string]map[string]func(*yaml.Node) error // per command: the config file's structured keys
}

// Execute runs the command line args.
func Execute(ctx context.Context, args []string, s Streams) error {
	root, g := newRoot(s)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	_, err := root.ExecuteContextC(ctx)
	if err != nil && !g.started {
		// cobra failed before any command ran: an unknown command or bad arguments.
		return sentinel.Tag(err, ErrUsage)
	}
	return nameOrigins(err, g.origins)
}

func newRoot(s Streams) (*cobra.Command, *globals) {
	g := &globals{}
	root := &cobra.Command{
		Use:   "wsbridge",
		Short: "Live sensor data from an ESP32 serial port to WebSocket clients, and back into a serial port",
		Long: `wsbridge carries live sensor data from an ESP32 on a USB cable to anyone on
the network, and back into a serial port on another machine.

  wsbridge serve    on the sensor machine: serial port -> WebSocket server + live page
  wsbridge sink     on the analysis machine: WebSocket -> a real or virtual serial port (for R)
  wsbridge record   WebSocket -> WAV/CSV files with JSON sidecars (training sets)
  wsbridge sim      a simulated ESP32 on a virtual serial port
  wsbridge ports    list serial ports and spot ESP32 boards

Configuration: defaults < --config FILE < WSBRIDGE_* environment < flags.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return g.setup(cmd, s) },
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.LogLevel, "log-level", "info", "diagnostics level: debug, info, warn or error")
	pf.StringVar(&g.LogFormat, "log-format", "auto", "diagnostics format: auto (console on a terminal, JSON otherwise), console or json")
	pf.StringVar(&g.Config, "config", "", "YAML file of settings; keys are this command's flag names (see configs/)")
	pf.BoolVar(&g.JSON, "json", false, "print the result as one JSON object per line, for scripts: the version, the ports, sim's port, serve's URLs, the sink's and record's summaries")
	root.SetFlagErrorFunc(flagError)
	root.Version = buildinfo.Get().Version // wsbridge --version, as `wsbridge version` prints it
	root.SetVersionTemplate(buildinfo.Get().String() + "\n")
	root.AddCommand(newVersion(g, s), newHealth(g, s), newServe(g, s), newSink(g, s), newRecord(g, s), newSim(g, s), newPorts(g, s))
	addCompletions(root)
	return root, g
}

// section registers a structured key of command's config file (serve's
// devices:), read by read.
func (g *globals) section(command, key string, read func(*yaml.Node) error) {
	if g.sections == nil {
		g.sections = map[string]map[string]func(*yaml.Node) error{}
	}
	if g.sections[command] == nil {
		g.sections[command] = map[string]func(*yaml.Node) error{}
	}
	g.sections[command][key] = read
}

// setup applies configuration (file, environment, flags) to cmd's flags and
// builds the logger.
func (g *globals) setup(cmd *cobra.Command, s Streams) error {
	g.started = true
	if err := g.applyConfig(cmd); err != nil {
		return sentinel.Tag(err, ErrUsage)
	}
	log, err := newLogger(s.Err, g.LogLevel, g.LogFormat)
	if err != nil {
		return sentinel.Tag(err, ErrUsage)
	}
	g.log = log
	return nil
}

func (g *globals) applyConfig(cmd *cobra.Command) error {
	src := config.Sources{Env: os.Environ(), Prefix: "WSBRIDGE_", Sections: g.sections[cmd.Name()]}
	if g.Config != "" {
		f, err := os.Open(g.Config)
		if err != nil {
			return fmt.Errorf("failed to open config file: %w", err)
		}
		defer f.Close()
		src.File, src.FileName = f, g.Config
	}
	fs := pflag.NewFlagSet(cmd.Name(), pflag.ContinueOnError)
	fs.AddFlagSet(cmd.Flags())
	fs.AddFlagSet(cmd.InheritedFlags())
	var err error
	g.origins, err = config.Apply(fs, src, configurable)
	return err
}
