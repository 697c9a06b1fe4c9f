/*
  adc_dma_frames - ESP32 ADC continuous (DMA) sampling, sent as wsbridge v1
  frames over Serial.

  Host:   wsbridge serve --port /dev/ttyUSB0 --baud 921600 --input frames
  Board:  ESP32, ESP32-S2, ESP32-S3 or ESP32-C3 with the Arduino-ESP32 core
          3.x (uses the ESP-IDF 5 adc_continuous driver directly, not the
          core's analogContinuous(), which averages conversions).
  Wiring: signal (0..~3.1 V at 11/12 dB attenuation) to ADC_PINS below,
          ground to GND. See firmware-ref/README.md.

  What it sends (all COBS packets ending in 0x00, see wsbridge_frame.h):
    - a lone 0x00 right after boot, so the host resynchronises past the ROM
      boot log;
    - a device info packet at boot, on "info" and after "rate N";
    - one data frame (u16 raw 12-bit words, channels interleaved) every
      FRAME_SAMPLES sample instants; seq is 0 at boot and +1 per frame;
      t_dev_us is esp_timer_get_time() of the frame's first sample
      (estimated from when the DMA block arrived);
    - a reply packet for every command line: "rate N", "start", "stop",
      "info" (text lines ending in \n).

  Rates: the DMA mode converts at 20 kHz..2 MHz on the ESP32 and
  611 Hz..83.3 kHz on the S3/C3, shared by all channels. Below the minimum
  the sketch runs the ADC k times faster and averages k conversions per
  sample (so the default 16 kHz runs at 32 kHz on an ESP32): per channel
  313 Hz..2 MHz (ESP32) or 10 Hz..83.3 kHz (S3/C3), divided by the channel
  count. "rate N" also refuses rates the link cannot carry.

  Nothing is lost silently: if the ADC driver's pool overflows (the sketch
  could not keep up, e.g. the UART is too slow for the rate) the partial
  frame is sent, one seq number is skipped so the host reports a gap, and a
  log packet says how many overflows happened.

  Not hardware-tested by the wsbridge project: written against the
  Arduino-ESP32 3.x / ESP-IDF 5.x APIs. The encoder it uses is tested on the
  host byte for byte against the Go decoder (go test ./firmware-ref/...).
*/
#include <Arduino.h>
#include "esp_adc/adc_continuous.h"
#include "esp_idf_version.h"
#include "esp_timer.h"
#include "soc/soc_caps.h"

#include <wsbridge_device.h>

// ---------------------------------------------------------------- settings
// Serial speed. Pick it from the rate/baud table in firmware-ref/README.md.
#define WSB_BAUD 921600
// Sample instants per data frame. 256 at 16 kHz = one frame every 16 ms.
#define FRAME_SAMPLES 256
// Per-channel sample rate at boot, Hz.
#define DEFAULT_RATE 16000
#define DEVICE_NAME "esp32-adc"
#define FIRMWARE "adc_dma_frames 0.1.0"

// ADC1 pins, one channel each (ADC2 is not usable in continuous mode).
// ESP32: GPIO36 (VP) = ADC1_CH0; add 39 (VN), 34, 35, 32, 33 for more.
// S2/S3: GPIO1..10; C3: GPIO0..4. Or set them from the build, e.g.
// build_flags = -DWSB_ADC_PINS=36,39 in platformio.ini.
#if defined(WSB_ADC_PINS)
static const uint8_t ADC_PINS[] = {WSB_ADC_PINS};
#elif CONFIG_IDF_TARGET_ESP32
static const uint8_t ADC_PINS[] = {36};
#else
static const uint8_t ADC_PINS[] = {1};
#endif
#define NCH (sizeof(ADC_PINS) / sizeof(ADC_PINS[0]))

// Conversion output format of this chip's ADC DMA.
#if CONFIG_IDF_TARGET_ESP32 || CONFIG_IDF_TARGET_ESP32S2
#define ADC_FORMAT ADC_DIGI_OUTPUT_FORMAT_TYPE1
#define ADC_CHAN(p) ((p)->type1.channel)
#define ADC_DATA(p) ((p)->type1.data)
#else
#define ADC_FORMAT ADC_DIGI_OUTPUT_FORMAT_TYPE2
#define ADC_CHAN(p) ((p)->type2.channel)
#define ADC_DATA(p) ((p)->type2.data)
#endif

// ~0..3.1 V input range; the enum was renamed in ESP-IDF 5.2 (core 3.1).
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 2, 0)
#define ADC_ATTEN ADC_ATTEN_DB_12
#else
#define ADC_ATTEN ADC_ATTEN_DB_11
#endif

// Bytes per second the link carries. Native USB CDC ignores the baud rate.
#if ARDUINO_USB_CDC_ON_BOOT
#define LINK_BYTES_PER_S 500000UL
#else
#define LINK_BYTES_PER_S (WSB_BAUD / 10UL)
#endif

// ------------------------------------------------------------------- state
// RAM (1 channel): samples 512 B + out 544 B + dma 512 B (ESP32) or 1 KiB
// (S3/C3) + ctl 144 B + dev ~125 B (command line included), plus the
// driver's pool (ADC_POOL_BYTES) on the heap, allocated once per rate.
#define ADC_READ_CONV 256
#define ADC_POOL_BYTES 16384
static uint16_t samples[FRAME_SAMPLES * NCH];                 // current frame
static uint8_t out[WSB_DATA_SERIAL_MAX(FRAME_SAMPLES, NCH, 2)]; // its serial form
static uint8_t dma[ADC_READ_CONV * SOC_ADC_DIGI_RESULT_BYTES];  // one driver read
static uint8_t ctl[128 + 16 * NCH];                            // info/log/reply packets
static wsb_device dev;                                         // protocol: commands, replies, info

static adc_continuous_handle_t adc = NULL;
static adc_channel_t adcChan[NCH];
static uint32_t seq = 0;       // next data frame's seq; 0 at boot
static uint16_t count = 0;     // sample instants in samples[]
static uint8_t chanIdx = 0;    // next channel expected within an instant
static uint8_t ovs = 1;         // ADC instants averaged per sample (see oversampleFor)
static uint8_t accN = 0;       // ADC instants in acc[]
static uint32_t acc[NCH];      // per-channel sums of the current sample
static uint64_t frameT = 0;    // t_dev_us of samples[0]
static volatile uint32_t overflows = 0;
static uint32_t overflowsSeen = 0;

// ------------------------------------------------------------------ output
static void serialWrite(const uint8_t *buf, size_t n) { Serial.write(buf, n); }

// flushFrame sends the samples collected so far (a full frame, or a shorter
// one before stop, a rate change or after an overflow) and advances seq.
static void flushFrame() {
  if (count == 0) return;
  wsb_frame f = {seq, frameT, dev.info.rate, (uint8_t)NCH, WSB_U16, count};
  int32_t n = wsb_encode_data(out, sizeof out, 1, &f, samples);  // ESP32 is little-endian
  if (n > 0) Serial.write(out, (size_t)n);
  seq++;
  count = 0;
}

// ---------------------------------------------------------------------- ADC
// The ADC's DMA mode has a minimum conversion rate (20 kHz on the ESP32).
// Slower rates run the ADC ovs times faster and average ovs conversions per
// sample (a boxcar decimation), so e.g. 16 kHz on an ESP32 samples at 32 kHz.
#define MAX_OVERSAMPLE 64
static uint32_t oversampleFor(uint32_t r) {
  uint64_t conv = (uint64_t)r * NCH;
  uint64_t k = (SOC_ADC_SAMPLE_FREQ_THRES_LOW + conv - 1) / conv;
  return k < 1 ? 1 : (uint32_t)k;
}

static bool IRAM_ATTR onPoolOverflow(adc_continuous_handle_t, const adc_continuous_evt_data_t *, void *) {
  overflows = overflows + 1;
  return false;
}

// adcStart starts sampling at dev.info.rate; 0 if the driver refused.
static int adcStart() {
  adc_continuous_handle_cfg_t hc = {};
  hc.max_store_buf_size = ADC_POOL_BYTES;
  hc.conv_frame_size = sizeof dma;
  if (adc_continuous_new_handle(&hc, &adc) != ESP_OK) return false;
  adc_digi_pattern_config_t pat[NCH] = {};
  for (size_t i = 0; i < NCH; i++) {
    pat[i].atten = ADC_ATTEN;
    pat[i].channel = adcChan[i] & 0x7;
    pat[i].unit = ADC_UNIT_1;
    pat[i].bit_width = SOC_ADC_DIGI_MAX_BITWIDTH;
  }
  adc_continuous_config_t cfg = {};
  cfg.pattern_num = NCH;
  cfg.adc_pattern = pat;
  ovs = (uint8_t)oversampleFor(dev.info.rate);
  cfg.sample_freq_hz = dev.info.rate * NCH * ovs;  // conversions per second, all channels
  cfg.conv_mode = ADC_CONV_SINGLE_UNIT_1;
  cfg.format = ADC_FORMAT;
  adc_continuous_evt_cbs_t cbs = {};
  cbs.on_pool_ovf = onPoolOverflow;
  if (adc_continuous_config(adc, &cfg) != ESP_OK ||
      adc_continuous_register_event_callbacks(adc, &cbs, NULL) != ESP_OK ||
      adc_continuous_start(adc) != ESP_OK) {
    adc_continuous_deinit(adc);
    adc = NULL;
    return 0;
  }
  count = 0;
  chanIdx = 0;
  accN = 0;
  memset(acc, 0, sizeof acc);
  return 1;
}

static void adcStop() {
  if (adc != NULL) {
    adc_continuous_stop(adc);
    adc_continuous_deinit(adc);
    adc = NULL;
  }
  flushFrame();
}

// addConversions appends one driver read (n bytes, read at time now) to
// the frame, averaging ovs ADC instants per sample and sending each frame as
// it fills.
static void addConversions(const uint8_t *buf, uint32_t n, int64_t now) {
  uint32_t conv = n / SOC_ADC_DIGI_RESULT_BYTES;
  uint32_t instants = conv / NCH;  // ADC instants in this read
  uint32_t instant = 0;            // index of the current one
  uint64_t hz = (uint64_t)dev.info.rate * ovs;
  for (uint32_t i = 0; i < conv; i++) {
    const adc_digi_output_data_t *p = (const adc_digi_output_data_t *)&buf[i * SOC_ADC_DIGI_RESULT_BYTES];
    if (ADC_CHAN(p) != (adcChan[chanIdx] & 0x7)) {  // out of pattern order: drop this sample's sums
      chanIdx = 0;
      accN = 0;
      memset(acc, 0, sizeof acc);
      continue;
    }
    if (count == 0 && chanIdx == 0 && accN == 0) {  // first conversion of a frame: its time
      uint32_t ago = instants > instant ? instants - 1 - instant : 0;
      frameT = (uint64_t)(now - (int64_t)((uint64_t)ago * 1000000ULL / hz));
    }
    acc[chanIdx] += ADC_DATA(p);
    if (++chanIdx < NCH) continue;
    chanIdx = 0;
    instant++;
    if (++accN < ovs) continue;
    accN = 0;
    for (size_t c = 0; c < NCH; c++) {
      samples[count * NCH + c] = (uint16_t)((acc[c] + ovs / 2) / ovs);
      acc[c] = 0;
    }
    if (++count == FRAME_SAMPLES) flushFrame();
  }
}

// checkOverflow reports driver pool overflows: samples were lost, so the
// partial frame is sent and one seq number skipped, making a visible gap.
static void checkOverflow() {
  uint32_t o = overflows;
  if (o == overflowsSeen) return;
  char msg[64];
  snprintf(msg, sizeof msg, "adc pool overflow x%lu: samples lost", (unsigned long)(o - overflowsSeen));
  overflowsSeen = o;
  flushFrame();
  seq++;
  wsb_dev_log(&dev, msg);
}

static void pumpAdc() {
  uint32_t got = 0;
  esp_err_t err = adc_continuous_read(adc, dma, sizeof dma, &got, 5);
  if (err == ESP_OK && got > 0) addConversions(dma, got, esp_timer_get_time());
  checkOverflow();
}

// ---------------------------------------------------------------- commands
// adcRateProblem returns NULL if the ADC can sample at r, else why not (in
// buf); wsb_device adds the link check.
static const char *adcRateProblem(uint32_t r, char *buf, size_t len) {
  uint64_t conv = (uint64_t)r * NCH;
  if (conv == 0 || oversampleFor(r) > MAX_OVERSAMPLE || conv > SOC_ADC_SAMPLE_FREQ_THRES_HIGH) {
    snprintf(buf, len, "rate %lu out of range: %lu..%lu Hz for %u channel(s) on this chip", (unsigned long)r,
             (unsigned long)((SOC_ADC_SAMPLE_FREQ_THRES_LOW + NCH * MAX_OVERSAMPLE - 1) / (NCH * MAX_OVERSAMPLE)),
             (unsigned long)(SOC_ADC_SAMPLE_FREQ_THRES_HIGH / NCH), (unsigned)NCH);
    return buf;
  }
  return NULL;
}

// -------------------------------------------------------------------- main
void setup() {
#if !ARDUINO_USB_CDC_ON_BOOT
  Serial.setTxBufferSize(8192);  // UART only, before begin(): absorbs frame bursts
#endif
  Serial.setRxBufferSize(256);
  Serial.begin(WSB_BAUD);
  static char names[NCH][12];
  static wsb_channel ch[NCH];
  for (size_t i = 0; i < NCH; i++) {
    adc_unit_t unit;
    adc_continuous_io_to_channel(ADC_PINS[i], &unit, &adcChan[i]);
    snprintf(names[i], sizeof names[i], "GPIO%u", ADC_PINS[i]);
    ch[i].name = names[i];
    ch[i].unit = "counts";
  }
  dev.write = serialWrite;
  dev.start = adcStart;
  dev.stop = adcStop;
  dev.rate_problem = adcRateProblem;
  dev.start_failed = "adc failed to start: check ADC_PINS are ADC1 pins";
  dev.link_bytes_per_s = LINK_BYTES_PER_S;
  dev.ctl = ctl;
  dev.ctl_cap = sizeof ctl;
  dev.info = {DEFAULT_RATE, (uint8_t)NCH, WSB_U16, FRAME_SAMPLES, DEVICE_NAME, FIRMWARE, (uint8_t)NCH, ch};
  wsb_dev_boot(&dev);
}

void loop() {
  while (Serial.available() > 0) wsb_dev_feed(&dev, (char)Serial.read());
  if (dev.running) {
    pumpAdc();  // blocks up to 5 ms waiting for DMA data
  } else {
    delay(1);
  }
}
