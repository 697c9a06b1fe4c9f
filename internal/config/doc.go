// Package config layers settings onto a command's flags: defaults (the flag
// definitions, in one place), then a YAML file, then WSBRIDGE_* environment
// variables, then the flags given on the command line.
//
// Configuration is data keyed by flag name: the YAML key for --listen is
// "listen", its variable WSBRIDGE_LISTEN; --slow-client is "slow-client" and
// WSBRIDGE_SLOW_CLIENT. Every value is parsed by the flag itself, so a bad
// value reads the same from every source, and errors name the field and
// where it came from. Unknown keys are errors.
//
// Entry points: Apply layers the sources onto a flag set; Dump prints the
// effective configuration as YAML (for --check).
package config
