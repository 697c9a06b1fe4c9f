// Package cli is the thin command-line layer of wsbridge: cobra commands
// whose flags bind to an options struct of the core package they drive, and
// whose RunE calls one function of that package. Errors return to main,
// which maps them to exit codes in one place (ExitCode).
//
// Entry points: Execute runs a command line; ExitCode maps its error.
// Each subcommand lives in its own file: serve.go, sink.go, sim.go,
// ports.go, version.go.
package cli
