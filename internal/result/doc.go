// Package result prints what a command reports when it is done (or, for a
// server, when it is ready) on standard output: text for people, or with
// --json one JSON object per line for scripts. Every command prints
// through Print, as arduino-cli's commands print through
// feedback.PrintResult, so that --json means the same everywhere.
//
// Entry point: Print. A result is any value that marshals to JSON (its
// fields and tags are the JSON form) and has a String method (the text
// form).
package result
