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
		name, ok := c.layout.channelOf(info.Config.Name)
		if !ok || len(info.Config.Subjects) != 1 {
			continue // not a wsbridge channel's stream
		}
		subj := info.Config.Subjects[0]
		site := strings.TrimSuffix(strings.TrimPrefix(subj, c.layout.Prefix+"."), "."+name)
		out = append(out, ChannelInfo{Name: name, Site: site, Stream: info.Config.Name, Subject: subj,
			Messages: info.State.Msgs, Bytes: info.State.Bytes, Oldest: info.State.FirstTime, Newest: info.State.LastTime,
			Replicas: info.Config.Replicas, MaxAge: info.Config.MaxAge.String()})
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("failed to list the channels on the bus: %w", c.explain(err, start))
	}
	slices.SortFunc(out, func(a, b ChannelInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
