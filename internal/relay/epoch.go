package relay

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"

	"github.com/wsbridge/wsbridge/internal/wsproto"
)

// newEpoch returns a fresh epoch: 8 lower-case hex digits from
// crypto/rand. Two serve processes (or two counts of one device) sharing
// an epoch by chance is a 1 in 2^32 event per resume.
func newEpoch() wsproto.Epoch {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails on supported systems (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// maxEpochLen bounds a client's ?epoch=: serve's own are 8 characters; a
// mirrored channel carries its origin's, which are the same.
const maxEpochLen = 64

// validEpoch reports whether e can be an epoch: 1..64 characters of
// [0-9A-Za-z_-], so that it needs no escaping in JSON, URLs or logs.
func validEpoch(e string) bool {
	if e == "" || len(e) > maxEpochLen {
		return false
	}
	for i := 0; i < len(e); i++ {
		switch c := e[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// resume is a client's resume point: ?since=SEQ, and ?epoch=E when the
// client knows which count SEQ belongs to ("" for clients from before
// epochs).
type resume struct {
	since uint32
	epoch wsproto.Epoch
}

// parseResume reads ?since= and ?epoch=. It returns nil for a live
// client. An epoch without since is ignored; an empty epoch is no epoch.
func parseResume(q url.Values) (*resume, error) {
	if !q.Has("since") {
		return nil, nil
	}
	v, err := strconv.ParseUint(q.Get("since"), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("bad since=%q: want a frame sequence number 0..4294967295", q.Get("since"))
	}
	r := &resume{since: uint32(v), epoch: q.Get("epoch")}
	if r.epoch != "" && !validEpoch(r.epoch) {
		return nil, fmt.Errorf("bad epoch=%q: want the epoch from hello or the last restart status (up to %d letters, digits, - or _)", r.epoch, maxEpochLen)
	}
	return r, nil
}
