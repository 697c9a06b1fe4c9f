#pragma once
// Fake arduinoWebSockets client (Links2004, 2.7.x API) for running the Wi-Fi
// sketches on the host. It does no networking itself: it writes what the
// library would do on fd 3, one record per line, and the test harness
// (conformance/wifi_test.go) carries that over a real WebSocket to a real
// server, feeding the server's messages back through the script:
//
//   records (fd 3):  C ID HOST PORT SSL URL AUTH   the library wants to connect
//                    B ID HEX                     sendBIN
//                    T ID HEX                     sendTXT
//                    .                            end of one script line's output
//   script (stdin):  wsup ID      the connection is up (fires WStype_CONNECTED)
//                    wsfail ID    the connect failed (retried after the reconnect interval)
//                    wsdown ID    the connection dropped (fires WStype_DISCONNECTED)
//                    wsrecv ID HEX  a text message from the server (WStype_TEXT)
//                    wspin N V    digitalRead(N) returns V from now on (a button)
//
// Like the real library: sends fail while not connected, a reconnect is
// attempted setReconnectInterval() ms (default 500) after a failure or a
// drop, incoming messages over WEBSOCKETS_MAX_DATA_SIZE are refused.
#include <functional>

#include "Arduino.h"

#define WEBSOCKETS_MAX_DATA_SIZE (15 * 1024)

typedef enum {
  WStype_ERROR,
  WStype_DISCONNECTED,
  WStype_CONNECTED,
  WStype_TEXT,
  WStype_BIN,
  WStype_FRAGMENT_TEXT_START,
  WStype_FRAGMENT_BIN_START,
  WStype_FRAGMENT,
  WStype_FRAGMENT_FIN,
  WStype_PING,
  WStype_PONG,
} WStype_t;

static FILE *fake_net(void) {
  static FILE *f = NULL;
  if (!f) f = fdopen(3, "w");
  return f ? f : stderr;
}

static void fake_hex(FILE *f, const uint8_t *b, size_t n) {
  if (n == 0) fputc('-', f);
  for (size_t i = 0; i < n; i++) fprintf(f, "%02x", b[i]);
}

class WebSocketsClient;
static WebSocketsClient *fake_ws_clients[4];
static int fake_ws_count = 0;

class WebSocketsClient {
 public:
  typedef std::function<void(WStype_t type, uint8_t *payload, size_t length)> WebSocketClientEvent;

  WebSocketsClient() { id = fake_ws_count < 4 ? fake_ws_count++ : 3, fake_ws_clients[id] = this; }
  void begin(const char *h, uint16_t p, const char *u = "/", const char * = "arduino") {
    snprintf(host, sizeof host, "%s", h);
    snprintf(url, sizeof url, "%s", u);
    port = p;
    ssl = false;
    started = true;
  }
  void beginSslWithCA(const char *h, uint16_t p, const char *u = "/", const char *ca = NULL, const char *proto = "arduino") {
    begin(h, p, u, proto);
    ssl = ca != NULL;
  }
  void onEvent(WebSocketClientEvent cb) { event = cb; }
  void setReconnectInterval(unsigned long ms) { interval = ms; }
  void enableHeartbeat(uint32_t, uint32_t, uint8_t) {}
  void setAuthorization(const char *a) { snprintf(auth, sizeof auth, "%s", a); }
  bool isConnected() { return connected; }
  void disconnect() {
    if (connected) down();
  }
  void loop() {
    if (!started || connected || connecting || millis() - lastFail < interval) return;
    connecting = true;
    FILE *f = fake_net();
    fprintf(f, "C %d %s %u %d %s ", id, host, port, ssl ? 1 : 0, url);
    fake_hex(f, (const uint8_t *)auth, strlen(auth));
    fputc('\n', f);
  }
  bool sendBIN(const uint8_t *b, size_t n) { return send('B', b, n); }
  bool sendTXT(const char *s, size_t n = 0) { return send('T', (const uint8_t *)s, n ? n : strlen(s)); }

  // Script hooks.
  void up() {
    connecting = false;
    connected = true;
    if (event) event(WStype_CONNECTED, (uint8_t *)url, strlen(url));
  }
  void fail() {
    connecting = false;
    lastFail = millis();
  }
  void down() {
    connecting = connected = false;
    lastFail = millis();
    if (event) event(WStype_DISCONNECTED, NULL, 0);
  }
  void recv(uint8_t *b, size_t n) {
    if (!connected) return;
    if (n > WEBSOCKETS_MAX_DATA_SIZE) {  // the library drops the connection
      down();
      return;
    }
    b[n] = 0;  // the library NUL-terminates text payloads
    if (event) event(WStype_TEXT, b, n);
  }

 private:
  bool send(char kind, const uint8_t *b, size_t n) {
    if (!connected) return false;
    FILE *f = fake_net();
    fprintf(f, "%c %d ", kind, id);
    fake_hex(f, b, n);
    fputc('\n', f);
    return true;
  }

  int id = 0;
  char host[64] = "", url[256] = "", auth[160] = "";
  uint16_t port = 0;
  bool ssl = false, started = false, connected = false, connecting = false;
  unsigned long interval = 500, lastFail = 0;
  WebSocketClientEvent event;
};

// fake_ws_command runs a ws* script line; 0 if line is not one.
static int fake_ws_command(char *line) {
  int id = 0, off = 0, v = 0;
  char cmd[16];
  if (sscanf(line, "wspin %d %d", &id, &v) == 2 && id >= 0 && id < 64) {
    fake_pin_in[id] = v;
    return 1;
  }
  if (sscanf(line, "%15s %d %n", cmd, &id, &off) < 2 || strncmp(cmd, "ws", 2) != 0 || id < 0 || id >= fake_ws_count)
    return 0;
  WebSocketsClient *c = fake_ws_clients[id];
  if (strcmp(cmd, "wsup") == 0) {
    c->up();
  } else if (strcmp(cmd, "wsfail") == 0) {
    c->fail();
  } else if (strcmp(cmd, "wsdown") == 0) {
    c->down();
  } else if (strcmp(cmd, "wsrecv") == 0) {
    static uint8_t buf[1 << 16];
    size_t n = 0;
    for (const char *h = line + off; h[0] && h[1] && n < sizeof buf - 1; h += 2) {
      unsigned v;
      if (sscanf(h, "%2x", &v) != 1) break;
      buf[n++] = (uint8_t)v;
    }
    c->recv(buf, n);
  } else {
    return 0;
  }
  return 1;
}
