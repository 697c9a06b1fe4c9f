#pragma once
// Fake ESP-IDF i2s_std types and channel calls used by i2s_mic_frames.
#include "Arduino.h"

typedef struct fake_i2s_chan *i2s_chan_handle_t;
typedef enum { I2S_DATA_BIT_WIDTH_16BIT = 16, I2S_DATA_BIT_WIDTH_32BIT = 32 } i2s_data_bit_width_t;
typedef enum { I2S_SLOT_MODE_MONO = 1, I2S_SLOT_MODE_STEREO = 2 } i2s_slot_mode_t;
typedef enum { I2S_STD_SLOT_LEFT = 1, I2S_STD_SLOT_RIGHT = 2, I2S_STD_SLOT_BOTH = 3 } i2s_std_slot_mask_t;
typedef struct {
  void *data;
  size_t size;
} i2s_event_data_t;
typedef bool (*i2s_isr_callback_t)(i2s_chan_handle_t, i2s_event_data_t *, void *);
typedef struct {
  i2s_isr_callback_t on_recv, on_recv_q_ovf, on_sent, on_send_q_ovf;
} i2s_event_callbacks_t;

struct fake_i2s_chan {
  bool enabled;
  i2s_isr_callback_t ovf;
};
static struct fake_i2s_chan fake_i2s_rx;
static int fake_i2s_register_while_enabled = 0;  // misuse counter, checked by the test

static inline esp_err_t i2s_channel_disable(i2s_chan_handle_t h) {
  h->enabled = false;
  return ESP_OK;
}
static inline esp_err_t i2s_channel_enable(i2s_chan_handle_t h) {
  h->enabled = true;
  return ESP_OK;
}
static inline esp_err_t i2s_channel_register_event_callback(i2s_chan_handle_t h, const i2s_event_callbacks_t *cbs,
                                                            void *) {
  if (h->enabled) {
    fake_i2s_register_while_enabled++;
    return ESP_ERR_INVALID_STATE;
  }
  h->ovf = cbs->on_recv_q_ovf;
  return ESP_OK;
}
