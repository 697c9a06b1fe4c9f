package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsbridge/wsbridge/internal/result"
	"github.com/wsbridge/wsbridge/internal/sentinel"
	"github.com/wsbridge/wsbridge/internal/wsclient"
)

// healthOptions are the flags of `wsbridge health`.
type healthOptions struct {
	URL           string
	Timeout       time.Duration
	CACert        string
	RequireDevice bool
}

// newHealth is the probe the container HEALTHCHECK runs: the image has no
// shell or curl.
func newHealth(g *globals, s Streams) *cobra.Command {
	o := healthOptions{URL: "http://127.0.0.1:8080/healthz", Timeout: 3 * time.Second}
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Probe a running serve's /healthz (exit 0 if healthy)",
		Long: `health asks a running serve's /healthz and exits 0 when serve answers as
wsbridge does (HTTP 200 with {"status":"ok",...}), 1 when it answers otherwise
(another server, an error page, a directory listing) or, with
--require-device, when a device is down, and 4 when it cannot be reached.
On success it prints one line: "healthy: URL (...)" with each channel's
state, or with --json the health document on one line. For a container
healthcheck that
must notice an unplugged board:

  HEALTHCHECK CMD ["wsbridge", "health", "--require-device"]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := probe(cmd.Context(), o)
			if err != nil {
				return err
			}
			return result.Print(s.Out, g.JSON, rep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", o.URL, "health endpoint of serve (https:// for a TLS serve)")
	f.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long")
	f.StringVar(&o.CACert, "ca-cert", "", "PEM certificate to trust for an https:// serve with a self-signed certificate")
	f.BoolVar(&o.RequireDevice, "require-device", false, "unhealthy while a device is down (unplugged, not answering), not only while serve is")
	return cmd
}

// health is what serve's /healthz answers: {"status":"ok","device_state":
// "up",...}, and with channels their states by name.
type health struct {
	Status      string          `json:"status"`
	DeviceState string          `json:"device_state"`
	Channels    json.RawMessage `json:"channels"`
}

// healthReport is what health prints: the URL and serve's health
// document.
type healthReport struct {
	url string
	doc json.RawMessage // serve's /healthz, compacted to one line
	h   health
}

// MarshalJSON is the health document as serve sent it, on one line.
func (r healthReport) MarshalJSON() ([]byte, error) { return r.doc, nil }

// String is one line: "healthy: URL (device up; channels: mic up, demo down (unplugged))".
func (r healthReport) String() string {
	s := "healthy: " + r.url + " (device " + r.h.DeviceState
	for i, c := range r.h.channels() {
		s += map[bool]string{true: "; channels: ", false: ", "}[i == 0] + c.Name + " " + c.DeviceState
		if c.DeviceReason != "" && c.DeviceState != "up" {
			s += " (" + c.DeviceReason + ")"
		}
	}
	return s + ")"
}

// probe asks o.URL and judges the answer: healthy, unhealthy (an error,
// exit 1), unreachable (exit 4) or a bad flag (exit 2).
func probe(ctx context.Context, o healthOptions) (healthReport, error) {
	rep := healthReport{url: o.URL}
	client, err := healthClient(o.CACert)
	if err != nil {
		return rep, sentinel.Tag(err, ErrUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL, nil)
	if err != nil || req.URL.Host == "" {
		return rep, Usagef("invalid --url %q: want http://HOST:PORT/healthz", o.URL)
	}
	resp, err := client.Do(req)
	if err != nil {
		return rep, sentinel.Tag(reachError(o.URL, err), ErrNetwork)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode != http.StatusOK:
		return rep, fmt.Errorf("unhealthy: %s answered %s", o.URL, resp.Status)
	case json.Unmarshal(body, &rep.h) != nil || rep.h.Status == "":
		return rep, fmt.Errorf("unhealthy: %s answered 200 but not with wsbridge's health document (%s): check --url (serve's is /healthz)", o.URL, describeBody(resp, body))
	case rep.h.Status != "ok":
		return rep, fmt.Errorf("unhealthy: %s says status %q", o.URL, rep.h.Status)
	}
	if o.RequireDevice {
		if down := rep.h.down(); len(down) > 0 {
			return rep, fmt.Errorf("unhealthy: serve runs but %s (--require-device)", strings.Join(down, ", "))
		}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return rep, fmt.Errorf("unhealthy: %s: %w", o.URL, err)
	}
	rep.doc = compact.Bytes()
	return rep, nil
}

// healthChannel is one channel of the health document.
type healthChannel struct {
	Name         string `json:"name"`
	DeviceState  string `json:"device_state"`
	DeviceReason string `json:"device_reason"`
}

// channels lists the channels by name (serve's /healthz carries
// "channels", a map of name to {"device_state", "device_reason"}; a list
// of {"name",...} is read too).
func (h *health) channels() []healthChannel {
	var byName map[string]healthChannel
	var list []healthChannel
	if json.Unmarshal(h.Channels, &byName) == nil {
		for name, c := range byName {
			c.Name = name
			list = append(list, c)
		}
	} else {
		_ = json.Unmarshal(h.Channels, &list)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// down lists what is not up: each channel whose device is not, or, from
// a serve without channels, "the device".
func (h *health) down() []string {
	list := h.channels()
	var out []string
	for _, c := range list {
		if c.DeviceState != "" && c.DeviceState != "up" {
			s := fmt.Sprintf("channel %s is %s", c.Name, c.DeviceState)
			if c.DeviceReason != "" {
				s += " (" + c.DeviceReason + ")"
			}
			out = append(out, s)
		}
	}
	if len(list) == 0 && h.DeviceState != "" && h.DeviceState != "up" {
		out = append(out, "the device is "+h.DeviceState)
	}
	return out
}

// describeBody names what answered instead, without dumping it.
func describeBody(resp *http.Response, body []byte) string {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(body)
	}
	return fmt.Sprintf("%d bytes of %s", len(body), ct)
}

// healthClient trusts caFile's certificates when given.
func healthClient(caFile string) (*http.Client, error) {
	c, err := wsclient.TrustCA(caFile)
	if c == nil && err == nil {
		c = http.DefaultClient
	}
	return c, err
}

// reachError says why serve could not be asked, with what to do for an
// untrusted certificate.
func reachError(url string, err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		err = ue.Err // it quotes the URL again
	}
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &verify) {
		return fmt.Errorf("failed to reach %s: the certificate is not trusted: pass serve's certificate with --ca-cert: %w", url, err)
	}
	return fmt.Errorf("failed to reach %s: %w", url, err)
}
