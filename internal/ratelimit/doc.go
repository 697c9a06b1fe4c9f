// Package ratelimit is the token bucket behind wsbridge's rate-limited
// messages: device text forwarded as log messages (package frame) and the
// sink's repeated log lines (package sink), so that a device or a server
// that floods costs a few lines a second, not a line per frame.
//
// Entry point: Bucket. Callers count what a Bucket holds back themselves
// and say it in the next line they let through.
package ratelimit
