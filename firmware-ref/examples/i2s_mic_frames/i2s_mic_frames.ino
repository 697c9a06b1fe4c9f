/*
  i2s_mic_frames - INMP441-class I2S MEMS microphone, sent as wsbridge v1
  frames over Serial (native USB CDC on ESP32-S2/S3/C3, UART on ESP32).

  Host:   wsbridge serve --port /dev/ttyACM0 --input frames          (native USB)
          wsbridge serve --port /dev/ttyUSB0 --baud 921600 --input frames (UART)
  Board:  Arduino-ESP32 core 3.x (ESP_I2S library, ships with the core).
          For native USB on S2/S3 set Tools > "USB CDC On Boot: Enabled".
  Wiring: INMP441 VDD-3V3, GND-GND, L/R-GND (left slot), SCK-PIN_BCLK,
          WS-PIN_WS, SD-PIN_SD. See firmware-ref/README.md.

  Samples: the INMP441 sends 24-bit two's complement, MSB first, in a 32-bit
  slot. SAMPLE_I16 0 sends them as i32 sign-extended (-8388608..8388607);
  SAMPLE_I16 1 sends the top 16 bits as i16, halving the bandwidth.

  Protocol as adc_dma_frames: a lone 0x00 after boot, device info at boot,
  on "info" and after "rate N", data frames with seq 0.. and t_dev_us from
  esp_timer_get_time(), a reply packet for every command line. An I2S DMA
  receive-queue overflow (samples dropped because the link was too slow)
  skips one seq number and sends a log packet, so the host reports a gap.

  Not hardware-tested by the wsbridge project: written against the
  Arduino-ESP32 3.x ESP_I2S / ESP-IDF 5.x i2s_std APIs.
*/
#include <Arduino.h>
#include <ESP_I2S.h>
#include "driver/i2s_std.h"
#include "esp_timer.h"

#include <wsbridge_cmd.h>
#include <wsbridge_frame.h>

// ---------------------------------------------------------------- settings
#define DEFAULT_RATE 16000  // 16000, 44100 or 48000 (INMP441: 7.8..50 kHz)
#ifdef SAMPLE_I16_OVERRIDE
#define SAMPLE_I16 1        // set from the build: -DSAMPLE_I16_OVERRIDE
#else
#define SAMPLE_I16 0        // 0: i32 (24-bit), 1: i16 (top 16 bits)
#endif
#define FRAME_SAMPLES 256   // 16 ms at 16 kHz, 5.3 ms at 48 kHz
#define WSB_BAUD 921600     // UART only; see the rate/baud table in the README
#define MIC_SLOT I2S_STD_SLOT_LEFT  // L/R pin to GND = left; try RIGHT if you read only zeros
#define DEVICE_NAME "esp32-inmp441"
#define FIRMWARE "i2s_mic_frames 0.1.0"

#if CONFIG_IDF_TARGET_ESP32S3
#define PIN_BCLK 12
#define PIN_WS 11
#define PIN_SD 10
#elif CONFIG_IDF_TARGET_ESP32C3
#define PIN_BCLK 6
#define PIN_WS 5
#define PIN_SD 4
#elif CONFIG_IDF_TARGET_ESP32S2
#define PIN_BCLK 12
#define PIN_WS 11
#define PIN_SD 10
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

#if ARDUINO_USB_CDC_ON_BOOT
#define LINK_BYTES_PER_S 500000UL  // native USB: baud ignored; ~0.5-1 MB/s
#else
#define LINK_BYTES_PER_S (WSB_BAUD / 10UL)
#endif

// ------------------------------------------------------------------- state
// RAM: raw 1 KiB + out 1058 B (i32) + ctl 128 B + line 64 B; the I2S
// driver's DMA buffers (6 x 240 frames x 4 B) are allocated by begin().
static int32_t raw[FRAME_SAMPLES];
static uint8_t out[WSB_DATA_SERIAL_MAX(FRAME_SAMPLES, 1, SAMPLE_SIZE)];
static uint8_t ctl[128];
static wsb_line line;

static I2SClass mic;
static uint32_t rate = DEFAULT_RATE;
static bool running = false;
static uint32_t seq = 0;
static volatile uint32_t overflows = 0;
static uint32_t overflowsSeen = 0;

// ------------------------------------------------------------------ output
static void sendCtl(int32_t n) {
  if (n > 0) Serial.write(ctl, (size_t)n);
}

static void sendReply(uint8_t status, const char *text) {
  sendCtl(wsb_encode_reply(ctl, sizeof ctl, 1, status, text, strlen(text)));
}

static void sendLog(const char *text) {
  sendCtl(wsb_encode_log(ctl, sizeof ctl, 1, text, strlen(text)));
}

static void sendInfo() {
  static const wsb_channel ch[1] = {{"mic", SAMPLE_I16 ? "pcm16" : "pcm24"}};
  wsb_info info = {rate, 1, SAMPLE_TYPE, FRAME_SAMPLES, DEVICE_NAME, FIRMWARE, 1, ch};
  sendCtl(wsb_encode_info(ctl, sizeof ctl, 1, &info));
}

// sendFrame packs n raw 32-bit I2S words straight into the serial buffer:
// header, converted samples and CRC go through COBS in one pass, with no
// separate packet buffer.
static void sendFrame(size_t n, uint64_t t) {
  wsb_writer w;
  wsb_frame f = {seq, t, rate, 1, SAMPLE_TYPE, (uint16_t)n};
  wsb_init(&w, out, sizeof out, 1);
  wsb_begin_data(&w, &f);
  for (size_t i = 0; i < n; i++) {
#if SAMPLE_I16
    wsb_put_i16(&w, (int16_t)(raw[i] >> 16));
#else
    wsb_put_i32(&w, raw[i] >> 8);  // 24-bit sample, sign-extended
#endif
  }
  int32_t len = wsb_end(&w);
  if (len > 0) Serial.write(out, (size_t)len);
  seq++;
}

// ---------------------------------------------------------------------- I2S
static bool IRAM_ATTR onRecvOverflow(i2s_chan_handle_t, i2s_event_data_t *, void *) {
  overflows = overflows + 1;
  return false;
}

static bool micStart() {
  mic.setPins(PIN_BCLK, PIN_WS, -1, PIN_SD);
  if (!mic.begin(I2S_MODE_STD, rate, I2S_DATA_BIT_WIDTH_32BIT, I2S_SLOT_MODE_MONO, MIC_SLOT)) return false;
  // Count DMA receive-queue overflows; callbacks need a disabled channel.
  i2s_event_callbacks_t cbs = {};
  cbs.on_recv_q_ovf = onRecvOverflow;
  i2s_chan_handle_t rx = mic.rxChan();
  i2s_channel_disable(rx);
  i2s_channel_register_event_callback(rx, &cbs, NULL);
  i2s_channel_enable(rx);
  mic.setTimeout(100);  // readBytes waits at most 100 ms
  running = true;
  return true;
}

static void micStop() {
  if (running) mic.end();
  running = false;
}

static void checkOverflow() {
  uint32_t o = overflows;
  if (o == overflowsSeen) return;
  char msg[64];
  snprintf(msg, sizeof msg, "i2s rx overflow x%lu: samples lost", (unsigned long)(o - overflowsSeen));
  overflowsSeen = o;
  seq++;  // a visible gap: the host counts and reports it
  sendLog(msg);
}

static void pumpMic() {
  size_t got = mic.readBytes((char *)raw, sizeof raw) / sizeof raw[0];
  int64_t now = esp_timer_get_time();
  checkOverflow();
  if (got > 0) sendFrame(got, (uint64_t)(now - (int64_t)((uint64_t)got * 1000000ULL / rate)));
}

// ---------------------------------------------------------------- commands
static const char *rateProblem(uint32_t r, char *buf, size_t len) {
  if (r < 7813 || r > 50000) {
    snprintf(buf, len, "rate %lu out of range: the INMP441 runs at 7813..50000 Hz", (unsigned long)r);
    return buf;
  }
  uint64_t need = (uint64_t)r * WSB_DATA_SERIAL_MAX(FRAME_SAMPLES, 1, SAMPLE_SIZE) / FRAME_SAMPLES;
  if (need > LINK_BYTES_PER_S * 90 / 100) {
    snprintf(buf, len, "rate %lu needs %lu B/s, more than the link carries (%lu B/s)", (unsigned long)r,
             (unsigned long)need, (unsigned long)LINK_BYTES_PER_S);
    return buf;
  }
  return NULL;
}

static void cmdRate(uint32_t r) {
  char msg[100];
  if (rateProblem(r, msg, sizeof msg) != NULL) {
    sendReply(WSB_REPLY_ERROR, msg);
    return;
  }
  bool was = running;
  micStop();
  rate = r;
  if (was && !micStart()) {
    sendReply(WSB_REPLY_ERROR, "i2s failed to restart");
    return;
  }
  snprintf(msg, sizeof msg, "rate %lu", (unsigned long)r);
  sendReply(WSB_REPLY_OK, msg);
  sendInfo();
}

static void handleLine(int rc) {
  wsb_cmd c = wsb_cmd_parse(line.buf);
  char msg[WSB_LINE_MAX + 24];
  if (rc == 2) c.kind = WSB_CMD_TOO_LONG;
  switch (c.kind) {
    case WSB_CMD_EMPTY: break;
    case WSB_CMD_RATE: cmdRate(c.arg); break;
    case WSB_CMD_START:
      if (!running && !micStart()) sendReply(WSB_REPLY_ERROR, "i2s failed to start");
      else sendReply(WSB_REPLY_OK, "start");
      break;
    case WSB_CMD_STOP:
      micStop();
      sendReply(WSB_REPLY_OK, "stop");
      break;
    case WSB_CMD_INFO:
      sendInfo();
      sendReply(WSB_REPLY_OK, "info");
      break;
    case WSB_CMD_BAD_ARG: sendReply(WSB_REPLY_ERROR, "rate needs a whole number of Hz, e.g. \"rate 16000\""); break;
    case WSB_CMD_TOO_LONG: sendReply(WSB_REPLY_ERROR, "command line too long"); break;
    default:
      snprintf(msg, sizeof msg, "unknown command \"%s\"", line.buf);
      sendReply(WSB_REPLY_ERROR, msg);
  }
}

static void pollCommands() {
  while (Serial.available() > 0) {
    int rc = wsb_line_feed(&line, (char)Serial.read());
    if (rc != 0) handleLine(rc);
  }
}

// -------------------------------------------------------------------- main
void setup() {
#if !ARDUINO_USB_CDC_ON_BOOT
  Serial.setTxBufferSize(8192);  // UART only, before begin()
#endif
  Serial.setRxBufferSize(256);
  Serial.begin(WSB_BAUD);  // ignored by native USB CDC
  wsb_line_reset(&line);
  Serial.write((uint8_t)0);  // the host resyncs here, past the ROM boot log
  sendInfo();
  char msg[100];
  if (rateProblem(rate, msg, sizeof msg) != NULL) {
    sendLog(msg);  // DEFAULT_RATE does not fit this link: wait for "rate N"
  } else if (!micStart()) {
    sendLog("i2s failed to start: check PIN_BCLK/PIN_WS/PIN_SD");
  }
}

void loop() {
  pollCommands();
  if (running) {
    pumpMic();  // blocks until one frame of samples (16 ms at 16 kHz)
  } else {
    delay(1);
  }
}
