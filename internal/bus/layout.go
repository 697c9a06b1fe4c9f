package bus

import (
	"fmt"
	"regexp"
	"strings"
)

// Layout names what a channel becomes on the bus. Each channel has its
// own stream, so the stream sequence counts only that channel's events
// (a stream shared by several devices interleaves their sequences: one
// device's messages come as 1002, 1006, 1010, ...) and retention is per
// channel. The device's (epoch, seq) travel in headers.
//
//	subject  <prefix>.<site>.<channel>    e.g. wsbridge.lab1.mic
//	stream   <prefix>_<channel>           e.g. wsbridge_mic (dots in the prefix become _)
//
// Channel names are one namespace per prefix: a second site that
// publishes a channel of the same name is refused (ErrConflict). The site
// token lets an operator give each site credentials that may publish only
// under <prefix>.<site>.>.
type Layout struct {
	Prefix string // subject prefix, one or more tokens: "wsbridge", "lab.wsbridge"
	Site   string // this node's site, one token
}

var (
	tokenRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	channelRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// Validate checks that prefix and site make valid subjects and stream names.
func (l Layout) Validate() error {
	for i, tok := range strings.Split(l.Prefix, ".") {
		if !tokenRE.MatchString(tok) {
			return fieldErr("prefix", "%q: token %d %q must be letters, digits, - or _ (tokens separated by dots)", l.Prefix, i+1, tok)
		}
	}
	if !tokenRE.MatchString(l.Site) {
		return fieldErr("site", "%q must be one token of letters, digits, - or _", l.Site)
	}
	return nil
}

// Subject is where this site publishes channel ch.
func (l Layout) Subject(ch string) string { return l.Prefix + "." + l.Site + "." + ch }

// Stream is the name of channel ch's stream.
func (l Layout) Stream(ch string) string {
	return strings.ReplaceAll(l.Prefix, ".", "_") + "_" + ch
}

// channelOf returns the channel a stream name of this layout carries.
func (l Layout) channelOf(stream string) (string, bool) {
	p := strings.ReplaceAll(l.Prefix, ".", "_") + "_"
	ch, ok := strings.CutPrefix(stream, p)
	return ch, ok && channelRE.MatchString(ch)
}

// checkChannel reports a channel name the bus cannot carry.
func checkChannel(ch string) error {
	if !channelRE.MatchString(ch) {
		return fmt.Errorf("%w: channel name %q must match %s", ErrBadName, ch, channelRE)
	}
	return nil
}
