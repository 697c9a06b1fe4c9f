package wsclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"unicode/utf8"
)

// dialError says what a failed handshake means and whether it can heal.
// target is the URL shown (without its token).
func dialError(target string, err error, resp *http.Response) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // net/http quotes the URL, token included
	}
	if resp != nil {
		return statusError(target, err, resp)
	}
	return transportError(target, err)
}

// statusError classifies an HTTP answer other than 101.
func statusError(target string, err error, resp *http.Response) *Error {
	code := resp.StatusCode
	status := strings.TrimSpace(resp.Status) // "404 Not Found"
	said := bodyText(resp)
	if said != "" {
		said = ": " + said
	}
	switch {
	case code == http.StatusUnauthorized:
		return permanent(ErrUnauthorized, err, "%s refused the connection (HTTP %s%s): the token is missing or wrong: check --token (or WSBRIDGE_TOKEN)", target, status, said)
	case code == http.StatusForbidden:
		return permanent(ErrUnauthorized, err, "%s refused the connection (HTTP %s%s)", target, status, said)
	case code == http.StatusNotFound:
		return permanent(ErrNotFound, err, "%s: no WebSocket endpoint there (HTTP %s): check the path; serve's stream is /ws (or /ws/CHANNEL)", target, status)
	case code == http.StatusBadRequest && strings.Contains(said, "HTTPS server"):
		return permanent(ErrUntrusted, err, "%s: the server speaks TLS: use wss:// instead of ws://", target)
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return temporary(err, "%s is full or busy (HTTP %s%s)", target, status, said)
	case code >= 500:
		return temporary(err, "%s answered HTTP %s%s", target, status, said)
	case code >= 200 && code < 300:
		hint := ""
		if u, e := url.Parse(target); e == nil && (u.Path == "" || u.Path == "/") {
			hint = "; serve's stream is at /ws"
		}
		return permanent(ErrNotWsbridge, err, "%s is not a WebSocket endpoint: it answered HTTP %s without upgrading%s", target, status, hint)
	case code == http.StatusRequestTimeout:
		return temporary(err, "%s answered HTTP %s", target, status)
	}
	return permanent(ErrRefused, err, "%s refused the connection (HTTP %s%s)", target, status, said)
}

// bodyText is the start of a plain-text answer, one line; "" for HTML or
// binary bodies, which are never dumped into a log.
func bodyText(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	b = bytes.TrimSpace(b)
	ct := resp.Header.Get("Content-Type")
	if len(b) == 0 || strings.Contains(ct, "html") || b[0] == '<' || !utf8.Valid(b) {
		return ""
	}
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// transportError classifies a failure before any HTTP answer.
func transportError(target string, err error) *Error {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var inval x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &unknown) || errors.As(err, &verify) && errors.As(verify.Err, &unknown):
		return permanent(ErrUntrusted, err, "%s: the server's certificate is not trusted (%v): pass its certificate (PEM) with --ca-cert, or use one from a trusted CA", target, rootCause(err))
	case errors.As(err, &host):
		return permanent(ErrUntrusted, err, "%s: the server's certificate is not valid for this host name (%v): connect by a name the certificate lists", target, rootCause(err))
	case errors.As(err, &inval):
		return permanent(ErrUntrusted, err, "%s: the server's certificate is not valid (%v)", target, rootCause(err))
	case errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return permanent(ErrUntrusted, err, "%s: the server does not speak TLS: use ws:// instead of wss://", target)
	case errors.Is(err, syscall.ECONNREFUSED):
		return temporary(err, "%s: connection refused: is serve running there?", target)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return temporary(err, "%s: no answer (timed out)", target)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return temporary(err, "%s: cannot resolve %s (%v)", target, dns.Name, dns.Err)
	}
	return temporary(err, "%s: %v", target, rootCause(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// rootCause is the innermost message of err: "connection reset by peer"
// rather than a chain that repeats the URL.
func rootCause(err error) error {
	for {
		var inner error
		switch e := err.(type) {
		case *url.Error:
			inner = e.Err
		case *net.OpError:
			inner = e.Err
		case *tls.CertificateVerificationError:
			inner = e.Err
		default:
			return err
		}
		if inner == nil {
			return err
		}
		err = inner
	}
}
