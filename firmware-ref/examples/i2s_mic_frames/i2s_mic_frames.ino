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

#include <wsbridge_device.h>

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
// RAM: raw 1 KiB + out 1058 B (i32) + ctl 128 B + dev ~125 B; the I2S
// driver's DMA buffers (6 x 240 frames x 4 B) are allocated by begin().
static int32_t raw[FRAME_SAMPLES];
static uint8_t out[WSB_DATA_SERIAL_MAX(FRAME_SAMPLES, 1, SAMPLE_SIZE)];
static uint8_t ctl[128];
static wsb_device dev;  // protocol: commands, replies, info

static I2SClass mic;
static uint32_t seq = 0;
static volatile uint32_t overflows = 0;
static uint32_t overflowsSeen = 0;

// ------------------------------------------------------------------ output
static void serialWrite(const uint8_t *buf, size_t n) { Serial.write(buf, n); }

// sendFrame packs n raw 32-bit I2S words straight into the serial buffer:
// header, converted samples and CRC go through COBS in one pass, with no
// separate packet buffer.
static void sendFrame(size_t n, uint64_t t) {
  wsb_writer w;
  wsb_frame f = {seq, t, dev.info.rate, 1, SAMPLE_TYPE, (uint16_t)n};
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

// micStart starts sampling at dev.info.rate; 0 if the I2S driver refused.
static int micStart() {
  mic.setPins(PIN_BCLK, PIN_WS, -1, PIN_SD);
  if (!mic.begin(I2S_MODE_STD, dev.info.rate, I2S_DATA_BIT_WIDTH_32BIT, I2S_SLOT_MODE_MONO, MIC_SLOT)) return 0;
  // Count DMA receive-queue overflows; callbacks need a disabled channel.
  i2s_event_callbacks_t cbs = {};
  cbs.on_recv_q_ovf = onRecvOverflow;
  i2s_chan_handle_t rx = mic.rxChan();
  i2s_channel_disable(rx);
  i2s_channel_register_event_callback(rx, &cbs, NULL);
  i2s_channel_enable(rx);
  mic.setTimeout(100);  // readBytes waits at most 100 ms
  return 1;
}

static void micStop() { mic.end(); }

static void checkOverflow() {
  uint32_t o = overflows;
  if (o == overflowsSeen) return;
  char msg[64];
  snprintf(msg, sizeof msg, "i2s rx overflow x%lu: samples lost", (unsigned long)(o - overflowsSeen));
  overflowsSeen = o;
  seq++;  // a visible gap: the host counts and reports it
  wsb_dev_log(&dev, msg);
}

static void pumpMic() {
  size_t got = mic.readBytes((char *)raw, sizeof raw) / sizeof raw[0];
  int64_t now = esp_timer_get_time();
  checkOverflow();
  if (got > 0) sendFrame(got, (uint64_t)(now - (int64_t)((uint64_t)got * 1000000ULL / dev.info.rate)));
}

// ---------------------------------------------------------------- commands
// micRateProblem returns NULL if the microphone runs at r, else why not (in
// buf); wsb_device adds the link check.
static const char *micRateProblem(uint32_t r, char *buf, size_t len) {
  if (r < 7813 || r > 50000) {
    snprintf(buf, len, "rate %lu out of range: the INMP441 runs at 7813..50000 Hz", (unsigned long)r);
    return buf;
  }
  return NULL;
}

// -------------------------------------------------------------------- main
void setup() {
#if !ARDUINO_USB_CDC_ON_BOOT
  Serial.setTxBufferSize(8192);  // UART only, before begin()
#endif
  Serial.setRxBufferSize(256);
  Serial.begin(WSB_BAUD);  // ignored by native USB CDC
  static const wsb_channel ch[1] = {{"mic", SAMPLE_I16 ? "pcm16" : "pcm24"}};
  dev.write = serialWrite;
  dev.start = micStart;
  dev.stop = micStop;
  dev.rate_problem = micRateProblem;
  dev.start_failed = "i2s failed to start: check PIN_BCLK/PIN_WS/PIN_SD";
  dev.link_bytes_per_s = LINK_BYTES_PER_S;
  dev.ctl = ctl;
  dev.ctl_cap = sizeof ctl;
  dev.info = {DEFAULT_RATE, 1, SAMPLE_TYPE, FRAME_SAMPLES, DEVICE_NAME, FIRMWARE, 1, ch};
  wsb_dev_boot(&dev);
}

void loop() {
  while (Serial.available() > 0) wsb_dev_feed(&dev, (char)Serial.read());
  if (dev.running) {
    pumpMic();  // blocks until one frame of samples (16 ms at 16 kHz)
  } else {
    delay(1);
  }
}
