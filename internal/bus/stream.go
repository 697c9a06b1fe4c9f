package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MinServer is the oldest nats-server the bus works with: stream metadata
// and the consumer API of nats.go's jetstream package need 2.10.
const MinServer = "2.10.0"

// ErrTooOld: the NATS server is older than MinServer.
var ErrTooOld = errors.New("nats-server too old")

// StreamSettings are the settings of one channel's stream.
type StreamSettings struct {
	MaxAge   time.Duration // how long events are kept
	MaxBytes int64         // at most this many bytes kept (0: no limit)
	Replicas int
	Memory   bool // memory storage instead of file
}

// Settings are the stream settings for a channel whose ring keeps hist
// of sample time and at most histBytes: the configured bus.stream values,
// with max_age and max_bytes taken from the channel's history when unset.
func (c *Conn) Settings(hist time.Duration, histBytes int64) StreamSettings {
	s := StreamSettings{MaxAge: c.cfg.Stream.MaxAge, MaxBytes: int64(c.cfg.Stream.MaxBytes),
		Replicas: c.cfg.Stream.Replicas, Memory: c.cfg.Stream.Storage == "memory"}
	if s.MaxAge == 0 {
		s.MaxAge = max(hist, time.Second)
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = histBytes
	}
	return s
}

// streamConfig is the full JetStream configuration of channel ch's stream.
func (c *Conn) streamConfig(ch string, s StreamSettings) jetstream.StreamConfig {
	st := jetstream.FileStorage
	if s.Memory {
		st = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:        c.layout.Stream(ch),
		Description: fmt.Sprintf("wsbridge channel %s from site %s", ch, c.layout.Site),
		Subjects:    []string{c.layout.Subject(ch)},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      s.MaxAge,
		MaxBytes:    orUnlimited(s.MaxBytes),
		MaxMsgs:     -1,
		Storage:     st,
		Replicas:    s.Replicas,
		Duplicates:  min(2*time.Minute, s.MaxAge),
		AllowDirect: true, // lookups by sequence are served by any replica
		Metadata:    map[string]string{"wsbridge_channel": ch, "wsbridge_site": c.layout.Site},
	}
}

func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// EnsureStream creates channel ch's stream, or checks that the one there
// matches: same site, storage, replicas, max_age and max_bytes. A
// mismatch is ErrConflict naming each difference and the command that
// fixes it; no JetStream is ErrNoJetStream; refused by the account's
// permissions is ErrPermission; a server older than MinServer is ErrTooOld.
func (c *Conn) EnsureStream(ctx context.Context, ch string, s StreamSettings) (jetstream.Stream, error) {
	if err := checkChannel(ch); err != nil {
		return nil, err
	}
	if err := c.checkVersion(); err != nil {
		return nil, err
	}
	want := c.streamConfig(ch, s)
	start := time.Now()
	for range 3 { // created by another node between our look and our create: look again
		st, err := c.js.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			st, err = c.js.CreateStream(ctx, want)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("failed to create stream %s: %w", want.Name, c.explain(err, start))
			}
			c.log.Info().Str("stream", want.Name).Str("subject", want.Subjects[0]).Dur("max_age", want.MaxAge).
				Int64("max_bytes", want.MaxBytes).Int("replicas", want.Replicas).Str("storage", want.Storage.String()).
				Msg("bus: stream created")
			return st, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to look up stream %s: %w", want.Name, c.explain(err, start))
		}
		if err := conflicts(st.CachedInfo().Config, want); err != nil {
			return nil, err
		}
		return st, nil
	}
	return nil, fmt.Errorf("failed to create stream %s: it keeps appearing and vanishing", want.Name)
}

// conflicts compares an existing stream's configuration with ours.
func conflicts(have, want jetstream.StreamConfig) error {
	if len(have.Subjects) != 1 || have.Subjects[0] != want.Subjects[0] {
		owner := have.Metadata["wsbridge_site"]
		if owner == "" {
			owner = "subjects " + strings.Join(have.Subjects, ",")
		} else {
			owner = "site " + owner
		}
		return fmt.Errorf("%w: stream %s carries %s, not %s: channel %s is already on the bus from %s; rename one of the channels, or give this serve bus.site %q if it is that site, or delete the stream if that site is gone (nats stream rm %s)",
			ErrConflict, have.Name, strings.Join(have.Subjects, ","), want.Subjects[0], want.Metadata["wsbridge_channel"], owner, have.Metadata["wsbridge_site"], have.Name)
	}
	var diffs, fixes []string
	if have.Storage != want.Storage {
		diffs = append(diffs, fmt.Sprintf("storage %s (want %s, which JetStream cannot change in place)", have.Storage, want.Storage))
	}
	if have.Replicas != want.Replicas {
		diffs = append(diffs, fmt.Sprintf("replicas %d (want %d)", have.Replicas, want.Replicas))
		fixes = append(fixes, "--replicas "+strconv.Itoa(want.Replicas))
	}
	if have.MaxAge != want.MaxAge {
		diffs = append(diffs, fmt.Sprintf("max_age %v (want %v)", have.MaxAge, want.MaxAge))
		fixes = append(fixes, "--max-age "+want.MaxAge.String())
	}
	if have.MaxBytes != want.MaxBytes {
		diffs = append(diffs, fmt.Sprintf("max_bytes %d (want %d)", have.MaxBytes, want.MaxBytes))
		fixes = append(fixes, "--max-bytes "+strconv.FormatInt(want.MaxBytes, 10))
	}
	if len(diffs) == 0 {
		return nil
	}
	fix := "set bus.stream to match it"
	if len(fixes) > 0 {
		fix += ", or change the stream: nats stream edit " + have.Name + " " + strings.Join(fixes, " ")
	}
	return fmt.Errorf("%w: stream %s exists with %s: %s", ErrConflict, have.Name, strings.Join(diffs, ", "), fix)
}

// checkVersion refuses servers older than MinServer once connected.
func (c *Conn) checkVersion() error {
	v := c.nc.ConnectedServerVersion()
	if v == "" || !versionBefore(v, MinServer) {
		return nil
	}
	return fmt.Errorf("%w: %s is %s, wsbridge's bus needs %s or later (Debian's nats-server 2.9 is too old: use the release from nats.io or its container image)",
		ErrTooOld, c.nc.ConnectedUrlRedacted(), v, MinServer)
}

// versionBefore compares dotted versions numerically ("2.9.25" < "2.10.0").
func versionBefore(a, b string) bool {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(b, ".")
	for i := range pb {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.SplitN(pa[i], "-", 2)[0])
		}
		y, _ = strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return false
}
