package relay

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wsbridge test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With --tls-cert/--tls-key the stream is wss:// and carries frames.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s, base := testServer(t, Options{TLSCert: certFile, TLSKey: keyFile})
	if !strings.HasPrefix(base, "https://127.0.0.1:") || !strings.HasPrefix(WSURL(base), "wss://") {
		t.Fatalf("base %s, ws %s", base, WSURL(base))
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, WSURL(base), &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	expectHello(t, c)
	publish(t, s, 0, 5)
	expectFrames(t, c, 0, 5)

	bad := Options{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: certFile}
	srv, err := New(bad)
	if err == nil {
		_, err = srv.Listen()
	}
	if err == nil || !strings.Contains(err.Error(), "failed to load --tls-cert") {
		t.Fatalf("bad key: %v", err)
	}
}

// A client that sends its request headers slowly is cut off after the
// header timeout; the stream goes on for the others.
func TestSlowHeadersCutOff(t *testing.T) {
	s, err := New(Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s.http.ReadHeaderTimeout = 200 * time.Millisecond
	base, cancel, done := serve(t, s)
	t.Cleanup(func() { // after the clients' cleanups
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	live := dial(t, wsURL(base, ""), nil)
	expectHello(t, live)
	slow, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "GET /ws HTTP/1.1\r\nHost: x\r\n") // and never the end of the headers
	slow.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(slow)
	if err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("slow-header connection not cut: %v after %v", err, time.Since(start))
	}
	publish(t, s, 0, 3)
	expectFrames(t, live, 0, 3)
}
