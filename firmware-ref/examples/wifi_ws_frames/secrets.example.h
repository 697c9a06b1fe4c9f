// Copy this file to secrets.h (next to the sketch; secrets.h is in
// .gitignore) and fill it in. Without secrets.h the sketch builds with
// these placeholders and cannot join any network.

// Wi-Fi (2.4 GHz: the ESP32 has no 5 GHz radio).
#define WIFI_SSID "your-ssid"
#define WIFI_PASS "your-password"

// wsbridge serve: the machine's address as the board sees it, serve's
// --listen port, and this board's channel and token, as in serve's config:
//   devices:
//     - name: mic
//       network: true
//       token: "paste the same token here"
#define WSB_HOST "192.168.1.10"
#define WSB_PORT 8080
#define WSB_CHANNEL "mic"
#define WSB_TOKEN "paste-the-device-token"

// TLS (wss://): 1 to connect with beginSslWithCA and check serve's
// certificate against WSB_CA_PEM, the CA (or self-signed certificate) that
// serve's --tls-cert was issued by. WSB_HOST must be a name or address the
// certificate holds. See firmware-ref/README.md, "TLS".
#define WSB_TLS 0
#define WSB_CA_PEM \
  "-----BEGIN CERTIFICATE-----\n" \
  "...\n" \
  "-----END CERTIFICATE-----\n"
