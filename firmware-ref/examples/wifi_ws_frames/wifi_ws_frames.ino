/*
  wifi_ws_frames - an INMP441-class I2S MEMS microphone on an ESP32, sent as
  wsbridge v1 frames over Wi-Fi to `wsbridge serve`, which the board
  connects to (so it works from behind NAT, and needs no server of its own).

  Host:   wsbridge serve --config serve.yaml      (a network device: see below)
  Board:  Arduino-ESP32 core 3.x; library arduinoWebSockets (Links2004) 2.7.x
          (Library Manager: "WebSockets" by Markus Sattler).
  Wiring: as i2s_mic_frames: INMP441 VDD-3V3, GND-GND, L/R-GND, SCK-PIN_BCLK,
          WS-PIN_WS, SD-PIN_SD. Credentials in secrets.h (copy
          secrets.example.h). See firmware-ref/README.md, "Wi-Fi".

  serve.yaml on the host:
      listen: 0.0.0.0:8080
      token: <subscribers' token>
      devices:
        - name: mic
          network: true
          token: <this board's token, also in secrets.h>

  What it does (docs/protocol.md, "Wi-Fi devices"):
    - connects to ws://WSB_HOST:WSB_PORT/pub/WSB_CHANNEL?boot=XXXXXXXX with
      "Authorization: Bearer WSB_TOKEN"; the boot id is random per power-up,
      so serve tells a reconnect (resume) from a reboot (a restart);
    - a sampler task reads the microphone, encodes each frame (v1 packet,
      no COBS) and puts it into the resend ring (RING_BYTES of RAM, 2 s at
      16 kHz i16 by default); loop() sends from the ring, one binary message
      per frame;
    - on serve's greeting (the first text message) it sends its device info
      and resumes the ring after the last seq serve has: a Wi-Fi drop
      shorter than the ring loses nothing, a longer one is an exact gap;
    - every other text message from serve is a command line ("rate 8000",
      "stop", "start", "info"), answered with a reply packet;
    - reconnects every 500 ms while serve is unreachable, and pings serve
      every 5 s so a dead link is noticed within about 9 s.

  Not hardware-tested by the wsbridge project: written against the
  Arduino-ESP32 3.x ESP_I2S / ESP-IDF 5.x APIs and arduinoWebSockets 2.7.
  Its logic runs on the host against stand-ins and a real serve
  (go test ./firmware-ref/...).
*/
#include <Arduino.h>
#include <ESP_I2S.h>
#include <WebSocketsClient.h>
#include <WiFi.h>
#include "driver/i2s_std.h"
#include "esp_random.h"
#include "esp_timer.h"

#include <wsbridge_device.h>

#if __has_include("secrets.h")
#include "secrets.h"
#else
#include "secrets.example.h"
#endif

// ---------------------------------------------------------------- settings
#define DEFAULT_RATE 16000   // INMP441: 7.8..50 kHz
#define FRAME_SAMPLES 256    // 16 ms at 16 kHz
#define SAMPLE_I16 1         // 1: i16 (top 16 of the 24 bits), 0: i32 (24-bit, twice the bytes)
#define RING_BYTES 65536     // resend ring: 120 frames = 1.9 s at 16 kHz i16 (ESP32: up to ~100 KiB of static RAM)
#define RECONNECT_MS 500     // arduinoWebSockets' default
#define HEARTBEAT_MS 5000    // ping serve this often...
#define PONG_TIMEOUT_MS 2000 // ...2 missed pongs in a row drop the link
#define SENDS_PER_LOOP 8     // frames sent per loop() pass (catching up after a drop)
// Throughput the rate check allows (bytes/s). Wi-Fi with arduinoWebSockets
// carries far more on a good link, but stalls of 100-400 ms are normal and
// the ring must catch up after a drop; see the README's Wi-Fi table.
#define LINK_BYTES_PER_S 200000UL
#define MIC_SLOT I2S_STD_SLOT_LEFT
#define DEVICE_NAME "esp32-inmp441-wifi"
#define FIRMWARE "wifi_ws_frames 0.1.0"
// The sampler runs in its own FreeRTOS task so that a send blocked by a
// Wi-Fi stall (arduinoWebSockets blocks up to 5 s) never stops sampling:
// frames wait in the ring. 0 samples in loop() instead (host tests).
#ifndef WSB_SAMPLER_TASK
#define WSB_SAMPLER_TASK 1
#endif

#if CONFIG_IDF_TARGET_ESP32S3 || CONFIG_IDF_TARGET_ESP32S2
#define PIN_BCLK 12
#define PIN_WS 11
#define PIN_SD 10
#elif CONFIG_IDF_TARGET_ESP32C3
#define PIN_BCLK 6
#define PIN_WS 5
#define PIN_SD 4
#else  // ESP32
#define PIN_BCLK 26
#define PIN_WS 25
#define PIN_SD 33
#endif

#if SAMPLE_I16
#define SAMPLE_TYPE WSB_I16
#define SAMPLE_SIZE 2
#else
#define SAMPLE_TYPE WSB_I32
#define SAMPLE_SIZE 4
#endif
#define PACKET_MAX WSB_DATA_PACKET_SIZE(FRAME_SAMPLES, 1, SAMPLE_SIZE)

#if WSB_SAMPLER_TASK
static portMUX_TYPE ringMux = portMUX_INITIALIZER_UNLOCKED;
#define RING_LOCK() portENTER_CRITICAL(&ringMux)
#define RING_UNLOCK() portEXIT_CRITICAL(&ringMux)
#else
#define RING_LOCK()
#define RING_UNLOCK()
#endif

// ------------------------------------------------------------------- state
// RAM: ring RING_BYTES + raw 1 KiB + pkt and sendBuf 2 x 540 B + ctl 128 B +
// dev ~130 B; the I2S driver's DMA buffers are allocated by begin(), the
// WebSocket client's by the library.
static uint8_t ringBuf[RING_BYTES];
static wsb_ring ring;
static int32_t raw[FRAME_SAMPLES];
static uint8_t pkt[PACKET_MAX];      // the sampler's frame
static uint8_t sendBuf[PACKET_MAX];  // loop()'s copy of the frame being sent
static uint8_t ctl[128];
static wsb_device dev;
static WebSocketsClient ws;
static I2SClass mic;
static char url[96];
static volatile bool greeted = false;  // serve's greeting arrived on this connection
static uint32_t seq = 0;
static volatile uint32_t overflows = 0;
static uint32_t overflowsSeen = 0;
static uint32_t lostSeen = 0;  // ring.stats.overwritten already reported (or made while disconnected)

// ------------------------------------------------------------------ output
// Info, logs and replies go out at once while connected; while not, they
// are dropped (the info is sent again after every greeting).
static void wsWrite(const uint8_t *buf, size_t n) {
  if (greeted) ws.sendBIN(buf, n);
}

// putFrame encodes n microphone words as a data frame into the ring.
static void putFrame(size_t n, uint64_t t) {
  wsb_writer w;
  wsb_frame f = {seq++, t, dev.info.rate, 1, SAMPLE_TYPE, (uint16_t)n};
  wsb_init(&w, pkt, sizeof pkt, 0);
  wsb_begin_data(&w, &f);
  for (size_t i = 0; i < n; i++) {
#if SAMPLE_I16
    wsb_put_i16(&w, (int16_t)(raw[i] >> 16));
#else
    wsb_put_i32(&w, raw[i] >> 8);
#endif
  }
  int32_t len = wsb_end(&w);
  if (len <= 0) return;
  RING_LOCK();
  wsb_ring_put(&ring, pkt, (size_t)len);
  RING_UNLOCK();
}

// ---------------------------------------------------------------------- I2S
static bool IRAM_ATTR onRecvOverflow(i2s_chan_handle_t, i2s_event_data_t *, void *) {
  overflows = overflows + 1;
  return false;
}

static int micStart() {
  mic.setPins(PIN_BCLK, PIN_WS, -1, PIN_SD);
  if (!mic.begin(I2S_MODE_STD, dev.info.rate, I2S_DATA_BIT_WIDTH_32BIT, I2S_SLOT_MODE_MONO, MIC_SLOT)) return 0;
  i2s_event_callbacks_t cbs = {};
  cbs.on_recv_q_ovf = onRecvOverflow;
  i2s_chan_handle_t rx = mic.rxChan();
  i2s_channel_disable(rx);
  i2s_channel_register_event_callback(rx, &cbs, NULL);
  i2s_channel_enable(rx);
  mic.setTimeout(100);
  return 1;
}

static void micStop() { mic.end(); }

static const char *micRateProblem(uint32_t r, char *buf, size_t len) {
  if (r < 7813 || r > 50000) {
    snprintf(buf, len, "rate %lu out of range: the INMP441 runs at 7813..50000 Hz", (unsigned long)r);
    return buf;
  }
  return NULL;
}

// sample reads one frame from the microphone into the ring. An I2S
// overflow skips one seq, so serve reports the gap.
static void sample() {
  size_t got = mic.readBytes((char *)raw, sizeof raw) / sizeof raw[0];
  int64_t now = esp_timer_get_time();
  if (overflows != overflowsSeen) {
    overflowsSeen = overflows;
    seq++;
  }
  if (got > 0) putFrame(got, (uint64_t)(now - (int64_t)((uint64_t)got * 1000000ULL / dev.info.rate)));
}

#if WSB_SAMPLER_TASK
static void samplerTask(void *) {
  for (;;) {
    if (dev.running) {
      sample();  // blocks until one frame of samples
    } else {
      delay(1);
    }
  }
}
#endif

// --------------------------------------------------------------- WebSocket
static void onWs(WStype_t type, uint8_t *payload, size_t len) {
  switch (type) {
  case WStype_CONNECTED:
    Serial.printf("connected to %s:%u%s\n", WSB_HOST, WSB_PORT, url);
    break;
  case WStype_DISCONNECTED:
    if (greeted) Serial.println("disconnected; frames wait in the ring");
    greeted = false;
    break;
  case WStype_TEXT: {
    wsb_greeting g;
    int rc = wsb_greeting_parse((const char *)payload, len, &g);
    if (rc == 0) {  // a command line
      wsb_dev_command(&dev, (const char *)payload, len);
      break;
    }
    RING_LOCK();
    wsb_resume r = wsb_ring_resume(&ring, rc == 1 && g.have_last, g.last_seq);
    RING_UNLOCK();
    greeted = true;
    lostSeen = ring.stats.overwritten;
    wsb_dev_send_info(&dev);
    Serial.printf("greeted: epoch %s, resending %lu frames from seq %lu\n", g.epoch, (unsigned long)r.frames,
                  (unsigned long)r.from);
    if (r.gap) {  // serve reports the same gap; say it from this side too
      char msg[96];
      snprintf(msg, sizeof msg, "the link was down longer than the resend ring holds: frames %lu..%lu lost",
               (unsigned long)(r.from - r.lost), (unsigned long)(r.from - 1));
      wsb_dev_log(&dev, msg);
    }
    break;
  }
  default:
    break;
  }
}

// sendFromRing sends up to SENDS_PER_LOOP frames; a failed send means the
// library dropped the connection: the greeting of the next one resumes.
static void sendFromRing() {
  for (int i = 0; i < SENDS_PER_LOOP && greeted; i++) {
    RING_LOCK();
    int32_t n = wsb_ring_next(&ring, sendBuf, sizeof sendBuf);
    RING_UNLOCK();
    if (n <= 0 || !ws.sendBIN(sendBuf, (size_t)n)) return;
  }
}

// reportLosses logs frames the ring overwrote before they were sent while
// connected: the link carries less than the microphone makes.
static void reportLosses() {
  uint32_t lost = ring.stats.overwritten;
  if (lost == lostSeen || !greeted) return;
  char msg[96];
  snprintf(msg, sizeof msg, "link too slow: the resend ring overwrote %lu frames before they were sent",
           (unsigned long)(lost - lostSeen));
  lostSeen = lost;
  wsb_dev_log(&dev, msg);
}

// -------------------------------------------------------------------- main
void setup() {
  Serial.begin(115200);
  static const wsb_channel ch[1] = {{"mic", SAMPLE_I16 ? "pcm16" : "pcm24"}};
  wsb_ring_init(&ring, ringBuf, sizeof ringBuf);
  dev.write = wsWrite;
  dev.start = micStart;
  dev.stop = micStop;
  dev.rate_problem = micRateProblem;
  dev.start_failed = "i2s failed to start: check PIN_BCLK/PIN_WS/PIN_SD";
  dev.link_bytes_per_s = LINK_BYTES_PER_S;
  dev.plain = 1;  // WebSocket: packets without COBS, one per message
  dev.ctl = ctl;
  dev.ctl_cap = sizeof ctl;
  dev.info = {DEFAULT_RATE, 1, SAMPLE_TYPE, FRAME_SAMPLES, DEVICE_NAME, FIRMWARE, 1, ch};

  WiFi.mode(WIFI_STA);
  WiFi.setSleep(false);  // modem sleep adds 100+ ms of latency and drops throughput
  WiFi.begin(WIFI_SSID, WIFI_PASS);
  snprintf(url, sizeof url, "/pub/%s?boot=%08lx", WSB_CHANNEL, (unsigned long)esp_random());
#if WSB_TLS
  ws.beginSslWithCA(WSB_HOST, WSB_PORT, url, WSB_CA_PEM);
#else
  ws.begin(WSB_HOST, WSB_PORT, url);
#endif
  ws.setAuthorization("Bearer " WSB_TOKEN);
  ws.setReconnectInterval(RECONNECT_MS);
  ws.enableHeartbeat(HEARTBEAT_MS, PONG_TIMEOUT_MS, 2);
  ws.onEvent(onWs);

  wsb_dev_boot(&dev);  // starts sampling now: frames wait in the ring until serve is reached
#if WSB_SAMPLER_TASK
  xTaskCreatePinnedToCore(samplerTask, "sampler", 4096, NULL, 5, NULL, 1);
#endif
}

void loop() {
  ws.loop();
  sendFromRing();
  reportLosses();
#if !WSB_SAMPLER_TASK
  if (dev.running) sample();
#endif
  while (Serial.available() > 0) wsb_dev_feed(&dev, (char)Serial.read());  // commands over USB too
}
