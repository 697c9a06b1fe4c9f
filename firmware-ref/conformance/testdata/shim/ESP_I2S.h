#pragma once
// Fake ESP_I2S: a microphone whose word k is (s24(k) << 8) | 0x5A, where
// s24(k) = ((k * 1237) mod 2^24) - 2^23: every 24-bit value sign, and low
// bits the sketch must discard.
#include "Arduino.h"
#include "driver/i2s_std.h"

typedef enum { I2S_MODE_STD, I2S_MODE_TDM, I2S_MODE_PDM_TX, I2S_MODE_PDM_RX } i2s_mode_t;

static uint64_t fake_i2s_k = 0;

static inline int32_t fake_s24(uint64_t k) { return (int32_t)((k * 1237u) % (1u << 24)) - (1 << 23); }

class I2SClass : public Stream {
 public:
  void setPins(int8_t bclk, int8_t ws, int8_t dout, int8_t din = -1, int8_t mclk = -1) {
    pins = bclk >= 0 && ws >= 0 && dout == -1 && din >= 0 && mclk == -1;
  }
  bool begin(i2s_mode_t mode, uint32_t r, i2s_data_bit_width_t bits, i2s_slot_mode_t ch, int8_t mask = -1) {
    if (fake_start_fails || !pins || mode != I2S_MODE_STD || bits != I2S_DATA_BIT_WIDTH_32BIT || ch != I2S_SLOT_MODE_MONO ||
        mask != I2S_STD_SLOT_LEFT)
      return false;
    rate = r;
    fake_i2s_rx.enabled = true;
    return true;
  }
  bool end() {
    fake_i2s_rx.enabled = false;
    fake_i2s_rx.ovf = NULL;
    rate = 0;
    return true;
  }
  i2s_chan_handle_t rxChan() { return &fake_i2s_rx; }
  size_t readBytes(char *buf, size_t size) {
    if (rate == 0 || !fake_i2s_rx.enabled) return 0;
    if (fake_overflow) {  // the DMA queue overflowed: 50 samples are gone
      fake_overflow = 0;
      fake_i2s_k += 50;
      if (fake_i2s_rx.ovf) fake_i2s_rx.ovf(&fake_i2s_rx, NULL, NULL);
    }
    size_t n = size / 4;
    for (size_t i = 0; i < n; i++) {
      uint32_t w = ((uint32_t)fake_s24(fake_i2s_k++) << 8) | 0x5A;
      memcpy(buf + 4 * i, &w, 4);
    }
    due += 1e6 * n / rate;
    fake_us += (uint64_t)due;
    due -= (uint64_t)due;
    return 4 * n;
  }

 private:
  bool pins = false;
  uint32_t rate = 0;
  double due = 0;
};
