/*
  wifi_pair - two ESP32 boards exchanging numbers through wsbridge serve,
  each on its own network (the bidirectional two-ESP32 tutorial, with the
  hub in the middle instead of one board serving the other on one LAN).

  Each board, flashed with the same sketch (WSB_NAME/WSB_PEER swapped in
  secrets.h):
    - publishes its potentiometer 20 times a second as text lines
      ("pot:1234") on /pub/WSB_NAME, with its device token;
    - subscribes to the other board's channel, /ws/WSB_PEER?format=csv, with
      the subscribers' token, and dims its LED to the other's value;
    - when its button is pressed, sends the other board the command "blink"
      ({"type":"command","line":"blink"} on that subscription; serve needs
      allow-commands) and prints the other board's reply;
    - answers "blink" itself by toggling its LED ("# ok blink").

  Wiring (ESP32 DevKit): potentiometer ends to 3V3 and GND, wiper to POT_PIN
  (GPIO34); a push button from BUTTON_PIN (GPIO0, the BOOT button) to GND;
  an LED with a 330 ohm resistor from LED_PIN (GPIO2, the on-board LED) to
  GND. Library: arduinoWebSockets (Links2004) 2.7.x. See firmware-ref/README.md.

  Not hardware-tested by the wsbridge project; its logic runs on the host
  against stand-ins, two boards through real servers
  (go test ./firmware-ref/...).
*/
#include <Arduino.h>
#include <WebSocketsClient.h>
#include <WiFi.h>
#include "esp_random.h"

#if __has_include("secrets.h")
#include "secrets.h"
#else
#include "secrets.example.h"
#endif

#define POT_PIN 34
#define BUTTON_PIN 0
#define LED_PIN 2
#define SEND_EVERY_MS 50  // 20 values a second
#define RECONNECT_MS 500

static WebSocketsClient pub;  // publishes on /pub/WSB_NAME
static WebSocketsClient sub;  // reads /ws/WSB_PEER
static bool pubReady = false; // greeted on /pub
static bool led = false;
static int lastButton = HIGH;
static unsigned long lastSend = 0;
static long peerValue = -1;
static char pubUrl[64], subUrl[96];

// onPub: serve's greeting, then commands for this board.
static void onPub(WStype_t type, uint8_t *payload, size_t len) {
  switch (type) {
  case WStype_DISCONNECTED:
    pubReady = false;
    break;
  case WStype_TEXT:
    if (len >= 15 && memcmp(payload, "{\"type\":\"hello\"", 15) == 0) {
      pubReady = true;  // text data has no seq: nothing to resume
    } else if (len == 5 && memcmp(payload, "blink", 5) == 0) {
      led = !led;
      digitalWrite(LED_PIN, led ? HIGH : LOW);
      pub.sendTXT("# ok blink");
    } else {
      char reply[96];
      snprintf(reply, sizeof reply, "# err unknown command \"%.*s\"", (int)(len > 40 ? 40 : len), (const char *)payload);
      pub.sendTXT(reply);
    }
    break;
  default:
    break;
  }
}

// onSub: the peer's channel in CSV: data lines are the peer's values;
// JSON messages (hello, status, gap, reply) start with '{'.
static void onSub(WStype_t type, uint8_t *payload, size_t len) {
  if (type != WStype_TEXT || len == 0) return;
  const char *s = (const char *)payload;  // NUL-terminated by the library
  if (s[0] != '{') {
    const char *last = s;  // the last line of the message is the newest value
    for (const char *p = s; *p; p++)
      if (*p == '\n' && p[1]) last = p + 1;
    peerValue = atol(last);
    Serial.printf("peer %s: %ld\n", WSB_PEER, peerValue);
  } else if (strstr(s, "\"type\":\"reply\"")) {
    Serial.printf("peer %s replied: %s\n", WSB_PEER, s);
  } else if (strstr(s, "\"type\":\"error\"")) {
    Serial.printf("serve refused: %s\n", s);
  }
}

void setup() {
  Serial.begin(115200);
  pinMode(LED_PIN, OUTPUT);
  pinMode(BUTTON_PIN, INPUT_PULLUP);
  WiFi.mode(WIFI_STA);
  WiFi.begin(WIFI_SSID, WIFI_PASS);
  snprintf(pubUrl, sizeof pubUrl, "/pub/%s?boot=%08lx", WSB_NAME, (unsigned long)esp_random());
  snprintf(subUrl, sizeof subUrl, "/ws/%s?format=csv", WSB_PEER);
  pub.begin(WSB_HOST, WSB_PORT, pubUrl);
  pub.setAuthorization("Bearer " WSB_TOKEN);
  pub.setReconnectInterval(RECONNECT_MS);
  pub.enableHeartbeat(5000, 2000, 2);
  pub.onEvent(onPub);
  sub.begin(WSB_HOST, WSB_PORT, subUrl);
  sub.setAuthorization("Bearer " WSB_SUB_TOKEN);
  sub.setReconnectInterval(RECONNECT_MS);
  sub.enableHeartbeat(5000, 2000, 2);
  sub.onEvent(onSub);
}

void loop() {
  pub.loop();
  sub.loop();
  unsigned long now = millis();
  if (pubReady && now - lastSend >= SEND_EVERY_MS) {
    lastSend = now;
    char line[24];
    snprintf(line, sizeof line, "pot:%u", (unsigned)analogRead(POT_PIN));
    pub.sendTXT(line);
  }
  int button = digitalRead(BUTTON_PIN);
  if (button == LOW && lastButton == HIGH && sub.isConnected()) {  // pressed
    sub.sendTXT("{\"type\":\"command\",\"line\":\"blink\"}");
  }
  lastButton = button;
  delay(5);
}
