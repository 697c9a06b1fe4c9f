package recordings

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// PinCertificate returns the TLS configuration serve's recorder uses to
// read serve's own wss:// streams: it accepts exactly the certificate in
// certFile (serve's --tls-cert, whatever names it was issued for, since
// the recorder dials 127.0.0.1) and nothing else.
func PinCertificate(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("failed to load --tls-cert %s for the recorder: %w", certFile, err)
	}
	want := pair.Certificate[0]
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The name is not verified (the recorder dials an IP address the
		// certificate need not name); VerifyPeerCertificate pins the
		// certificate itself instead, which is stricter.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], want) {
				return errors.New("the server's certificate is not serve's own --tls-cert")
			}
			return nil
		},
	}, nil
}
