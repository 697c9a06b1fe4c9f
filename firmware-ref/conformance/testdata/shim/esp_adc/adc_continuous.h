#pragma once
// Fake ESP-IDF adc_continuous driver: a signal whose instant i on pattern
// entry c reads (i + c) & 0xFFF, delivered FAKE_ADC_CONV conversions per
// read, with time advancing at the configured conversion rate.
#include "Arduino.h"
#include "soc/soc_caps.h"

typedef struct fake_adc *adc_continuous_handle_t;
typedef enum { ADC_UNIT_1, ADC_UNIT_2 } adc_unit_t;
typedef int adc_channel_t;
typedef enum { ADC_ATTEN_DB_0, ADC_ATTEN_DB_2_5, ADC_ATTEN_DB_6, ADC_ATTEN_DB_12 } adc_atten_t;
typedef enum { ADC_CONV_SINGLE_UNIT_1 = 1 } adc_digi_convert_mode_t;
typedef enum { ADC_DIGI_OUTPUT_FORMAT_TYPE1, ADC_DIGI_OUTPUT_FORMAT_TYPE2 } adc_digi_output_format_t;

typedef struct {
  uint32_t max_store_buf_size;
  uint32_t conv_frame_size;
} adc_continuous_handle_cfg_t;

typedef struct {
  uint8_t atten, channel, unit, bit_width;
} adc_digi_pattern_config_t;

typedef struct {
  uint32_t pattern_num;
  adc_digi_pattern_config_t *adc_pattern;
  uint32_t sample_freq_hz;
  adc_digi_convert_mode_t conv_mode;
  adc_digi_output_format_t format;
} adc_continuous_config_t;

#if CONFIG_IDF_TARGET_ESP32
typedef struct {
  union {
    struct {
      uint16_t data : 12;
      uint16_t channel : 4;
    } type1;
    uint16_t val;
  };
} adc_digi_output_data_t;
#else
typedef struct {
  union {
    struct {
      uint32_t data : 12;
      uint32_t reserved12 : 1;
      uint32_t channel : 4;
      uint32_t unit : 1;
      uint32_t reserved : 14;
    } type2;
    uint32_t val;
  };
} adc_digi_output_data_t;
#endif

typedef struct {
  uint8_t *conv_frame_buffer;
  uint32_t size;
} adc_continuous_evt_data_t;
typedef bool (*adc_continuous_callback_t)(adc_continuous_handle_t, const adc_continuous_evt_data_t *, void *);
typedef struct {
  adc_continuous_callback_t on_conv_done;
  adc_continuous_callback_t on_pool_ovf;
} adc_continuous_evt_cbs_t;

#ifndef FAKE_ADC_CONV
#define FAKE_ADC_CONV 100
#endif

struct fake_adc {
  uint32_t freq, npat, frame;
  uint8_t pat[8];
  bool running;
  adc_continuous_callback_t ovf;
  double due;  // µs owed to the clock by conversions delivered
};
static struct fake_adc fake_adc_state;
static uint64_t fake_adc_instant = 0;  // the signal's position, across handles
static int fake_adc_handles = 0;       // open handles (must stay 0 or 1)

static inline esp_err_t adc_continuous_io_to_channel(int io, adc_unit_t *unit, adc_channel_t *ch) {
  static const int esp32[] = {36, 37, 38, 39, 32, 33, 34, 35};
  *unit = ADC_UNIT_1;
#if CONFIG_IDF_TARGET_ESP32
  for (int i = 0; i < 8; i++)
    if (esp32[i] == io) return *ch = i, ESP_OK;
  return ESP_FAIL;
#else
  (void)esp32;
  if (io < 1 || io > 10) return ESP_FAIL;
  *ch = io - 1;
  return ESP_OK;
#endif
}

static inline esp_err_t adc_continuous_new_handle(const adc_continuous_handle_cfg_t *c, adc_continuous_handle_t *h) {
  if (fake_adc_handles != 0) return ESP_ERR_INVALID_STATE;
  fake_adc_handles++;
  memset(&fake_adc_state, 0, sizeof fake_adc_state);
  fake_adc_state.frame = c->conv_frame_size;
  *h = &fake_adc_state;
  return ESP_OK;
}

static inline esp_err_t adc_continuous_config(adc_continuous_handle_t h, const adc_continuous_config_t *c) {
  if (c->sample_freq_hz < SOC_ADC_SAMPLE_FREQ_THRES_LOW || c->sample_freq_hz > SOC_ADC_SAMPLE_FREQ_THRES_HIGH)
    return ESP_FAIL;
  h->freq = c->sample_freq_hz;
  h->npat = c->pattern_num;
  for (uint32_t i = 0; i < c->pattern_num; i++) h->pat[i] = c->adc_pattern[i].channel;
  return ESP_OK;
}

static inline esp_err_t adc_continuous_register_event_callbacks(adc_continuous_handle_t h,
                                                                const adc_continuous_evt_cbs_t *cbs, void *) {
  h->ovf = cbs->on_pool_ovf;
  return ESP_OK;
}

static inline esp_err_t adc_continuous_start(adc_continuous_handle_t h) {
  if (fake_start_fails) return ESP_FAIL;
  h->running = true;
  return ESP_OK;
}
static inline esp_err_t adc_continuous_stop(adc_continuous_handle_t h) {
  h->running = false;
  return ESP_OK;
}
static inline esp_err_t adc_continuous_deinit(adc_continuous_handle_t) {
  fake_adc_handles--;
  return ESP_OK;
}

static inline esp_err_t adc_continuous_read(adc_continuous_handle_t h, uint8_t *buf, uint32_t max, uint32_t *got,
                                            uint32_t) {
  if (!h->running) return ESP_ERR_INVALID_STATE;
  if (fake_overflow) {  // the pool overflowed: 100 instants never reach the reader
    fake_overflow = 0;
    fake_adc_instant += 100;
    if (h->ovf) h->ovf(h, NULL, NULL);
  }
  uint32_t n = max / SOC_ADC_DIGI_RESULT_BYTES;
  if (n > FAKE_ADC_CONV) n = FAKE_ADC_CONV;
  n -= n % h->npat;  // whole pattern cycles, as the DMA delivers them
  for (uint32_t i = 0; i < n; i++) {
    uint32_t c = i % h->npat;
    adc_digi_output_data_t d;
    d.val = 0;
#if CONFIG_IDF_TARGET_ESP32
    d.type1.channel = h->pat[c] & 0xF;
    d.type1.data = (fake_adc_instant + c) & 0xFFF;
#else
    d.type2.channel = h->pat[c] & 0xF;
    d.type2.data = (fake_adc_instant + c) & 0xFFF;
#endif
    memcpy(buf + i * SOC_ADC_DIGI_RESULT_BYTES, &d, SOC_ADC_DIGI_RESULT_BYTES);
    if (c + 1 == h->npat) fake_adc_instant++;
  }
  h->due += 1e6 * n / h->freq;  // the data arrives after it was sampled
  fake_us += (uint64_t)h->due;
  h->due -= (uint64_t)h->due;
  *got = n * SOC_ADC_DIGI_RESULT_BYTES;
  return ESP_OK;
}
