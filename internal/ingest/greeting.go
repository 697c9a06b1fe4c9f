package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
)

// RolePublisher is the role a greeting names on /pub.
const RolePublisher = "publisher"

// GreetingPrefix starts every greeting, and nothing else serve sends a
// publisher: every other text message is a command line.
const GreetingPrefix = `{"type":"hello"`

// Greeting is serve's first message to a publisher (see docs/protocol.md).
// Marshal it with encoding/json: Type comes first, so the bytes start with
// GreetingPrefix.
type Greeting struct {
	Type     string  `json:"type"` // "hello"
	Protocol int     `json:"protocol"`
	Server   string  `json:"server"`
	Role     string  `json:"role"` // RolePublisher
	Channel  string  `json:"channel"`
	Epoch    string  `json:"epoch"`
	Boot     string  `json:"boot"`
	LastSeq  *uint32 `json:"last_seq"` // newest seq received from this boot; nil: none
	Commands bool    `json:"commands"`
}

// IsGreeting reports whether a text message from serve is its greeting
// rather than a command.
func IsGreeting(msg []byte) bool { return bytes.HasPrefix(msg, []byte(GreetingPrefix)) }

// ParseGreeting reads a greeting.
func ParseGreeting(msg []byte) (Greeting, error) {
	var g Greeting
	if !IsGreeting(msg) {
		return g, fmt.Errorf("not a greeting: %q", clip(msg, 40))
	}
	if err := json.Unmarshal(msg, &g); err != nil {
		return g, fmt.Errorf("bad greeting: %w", err)
	}
	if g.Role != RolePublisher {
		return g, fmt.Errorf("greeting for role %q, want %q", g.Role, RolePublisher)
	}
	return g, nil
}

var bootRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// CheckBoot validates the boot query parameter ("" is allowed: no boot).
func CheckBoot(boot string) error {
	if boot == "" || bootRE.MatchString(boot) {
		return nil
	}
	return fmt.Errorf("bad boot=%q: want 1..32 characters of A-Z a-z 0-9 _ -, chosen at power-up", clip([]byte(boot), 40))
}
