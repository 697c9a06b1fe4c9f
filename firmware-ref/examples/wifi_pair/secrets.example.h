// Copy to secrets.h (in .gitignore) and fill in; flash the same sketch to
// both boards with WSB_NAME and WSB_PEER swapped.

#define WIFI_SSID "your-ssid"
#define WIFI_PASS "your-password"

// wsbridge serve (one serve for both boards, which may be on different
// networks: each connects out to it).
#define WSB_HOST "192.168.1.10"
#define WSB_PORT 8080

// This board's channel and the other board's. serve's config has both:
//   token: <subscribers' token, = WSB_SUB_TOKEN>
//   allow-commands: true
//   devices:
//     - {name: a, network: true, token: <board a's token>}
//     - {name: b, network: true, token: <board b's token>}
#ifndef WSB_NAME
#define WSB_NAME "a"
#endif
#ifndef WSB_PEER
#define WSB_PEER "b"
#endif
// This board's device token (publishes on /pub/WSB_NAME) and the
// subscribers' token (reads /ws/WSB_PEER and sends it commands).
#ifndef WSB_TOKEN
#define WSB_TOKEN "paste-this-boards-token"
#endif
#define WSB_SUB_TOKEN "paste-the-subscribers-token"
