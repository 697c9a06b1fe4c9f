package bus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ChannelInfo describes one channel on the bus, from its stream.
type ChannelInfo struct {
	Name     string    `json:"name"`
	Site     string    `json:"site"`
	Stream   string    `json:"stream"`
	Subject  string    `json:"subject"`
	Messages uint64    `json:"messages"`
	Bytes    uint64    `json:"bytes"`
	Oldest   time.Time `json:"oldest"` // when the oldest event held was stored
	Newest   time.Time `json:"newest"`
	Replicas int       `json:"replicas"`
	MaxAge   string    `json:"max_age"`
}

// Channels lists the channels on the bus under this prefix, by name.
func (c *Conn) Channels(ctx context.Context) ([]ChannelInfo, error) {
	start := time.Now()
	l := c.js.ListStreams(ctx, jetstream.WithStreamListSubject(c.layout.Prefix+".>"))
	var out []ChannelInfo
	for info := range l.Info() {
		if ci, ok := c.channelInfo(info); ok {
			out = append(out, ci)
		}
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("failed to list the channels on the bus: %w", c.explain(err, start))
	}
	slices.SortFunc(out, func(a, b ChannelInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// streamNames lists the names of the streams under this prefix: what a
// node polls, much cheaper for the servers than Channels (a cluster
// answers a list of infos by asking every stream's leader for its state).
func (c *Conn) streamNames(ctx context.Context) ([]string, error) {
	start := time.Now()
	l := c.js.StreamNames(ctx, jetstream.WithStreamListSubject(c.layout.Prefix+".>"))
	var out []string
	for name := range l.Name() {
		out = append(out, name)
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("failed to list the channels on the bus: %w", c.explain(err, start))
	}
	return out, nil
}

// channel describes the channel of one stream; ok is false when the
// stream is not a wsbridge channel's.
func (c *Conn) channel(ctx context.Context, stream string) (ChannelInfo, bool, error) {
	start := time.Now()
	st, err := c.js.Stream(ctx, stream)
	if err != nil {
		return ChannelInfo{}, false, fmt.Errorf("failed to look up stream %s: %w", stream, c.explain(err, start))
	}
	ci, ok := c.channelInfo(st.CachedInfo())
	return ci, ok, nil
}

func (c *Conn) channelInfo(info *jetstream.StreamInfo) (ChannelInfo, bool) {
	name, ok := c.layout.channelOf(info.Config.Name)
	if !ok || len(info.Config.Subjects) != 1 {
		return ChannelInfo{}, false // not a wsbridge channel's stream
	}
	subj := info.Config.Subjects[0]
	site := strings.TrimSuffix(strings.TrimPrefix(subj, c.layout.Prefix+"."), "."+name)
	return ChannelInfo{Name: name, Site: site, Stream: info.Config.Name, Subject: subj,
		Messages: info.State.Msgs, Bytes: info.State.Bytes, Oldest: info.State.FirstTime, Newest: info.State.LastTime,
		Replicas: info.Config.Replicas, MaxAge: info.Config.MaxAge.String()}, true
}
