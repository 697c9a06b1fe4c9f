// Host stand-in for the Arduino-ESP32 core, just enough to run the
// reference sketches' logic on a PC (see sketch_main.cpp). Not a model of
// the hardware: time is a counter, peripherals produce counter signals.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IRAM_ATTR
#define A0 36
#define A3 39

typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_INVALID_STATE 0x103
#define ESP_ERR_TIMEOUT 0x107

static uint64_t fake_us = 1000000;  // device clock, µs since boot
static int fake_overflow = 0;       // armed by the script: next read drops samples
static int fake_start_fails = 0;    // set by the script: the ADC/I2S driver refuses to start

// Serial: writes go to stdout, reads come from the script's "send" lines.
class FakeSerial {
 public:
  char in[4096];
  size_t inLen = 0, inPos = 0;
  void begin(unsigned long) {}
  void setTxBufferSize(size_t) {}
  void setRxBufferSize(size_t) {}
  size_t write(uint8_t b) { return fwrite(&b, 1, 1, stdout); }
  size_t write(const uint8_t *b, size_t n) { return fwrite(b, 1, n, stdout); }
  int available() { return (int)(inLen - inPos); }
  int read() { return inPos < inLen ? (uint8_t)in[inPos++] : -1; }
  void print(const char *s) { fputs(s, stdout); }
  void print(char c) { fputc(c, stdout); }
  void print(int v) { printf("%d", v); }
  void print(unsigned int v) { printf("%u", v); }
  void print(long v) { printf("%ld", v); }
  void print(unsigned long v) { printf("%lu", v); }
  void println() { fputs("\r\n", stdout); }
  int printf(const char *fmt, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
  }
  template <typename T> void println(T v) { print(v); println(); }
  void feed(const char *s) {
    size_t n = strlen(s);
    if (inPos == inLen) inPos = inLen = 0;
    memcpy(in + inLen, s, n);
    inLen += n;
  }
};
extern FakeSerial Serial;

class Stream {
 public:
  void setTimeout(unsigned long ms) { timeout = ms; }
 protected:
  unsigned long timeout = 1000;
};

static inline void delay(uint32_t ms) { fake_us += 1000ULL * ms; }
static inline unsigned long micros() { return (unsigned long)fake_us; }
static inline unsigned long millis() { return (unsigned long)(fake_us / 1000); }

// GPIO: outputs are remembered, inputs read fake_pin_in (set by the script).
#define LOW 0
#define HIGH 1
#define INPUT 0x01
#define OUTPUT 0x03
#define INPUT_PULLUP 0x05
static int fake_pin_out[64];
static int fake_pin_in[64];
static inline void pinMode(uint8_t, uint8_t) {}
static inline void digitalWrite(uint8_t pin, uint8_t v) { fake_pin_out[pin & 63] = v; }
static inline int digitalRead(uint8_t pin) { return fake_pin_in[pin & 63]; }
static uint32_t fake_analog = 0;
static inline uint16_t analogRead(uint8_t pin) {
  fake_us += 10;  // an analogRead takes ~10 µs on an ESP32
  return (uint16_t)((fake_analog++ + pin) & 0xFFF);
}
static inline void analogReadResolution(uint8_t) {}
