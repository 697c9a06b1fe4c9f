#pragma once
// Fake Arduino-ESP32 WiFi: always associated at once.
#include "Arduino.h"

#define WL_CONNECTED 3
#define WIFI_STA 1

class FakeWiFi {
 public:
  void mode(int) {}
  void setSleep(bool) {}
  void begin(const char *, const char *) { up = true; }
  int status() { return up ? WL_CONNECTED : 0; }
  int RSSI() { return -55; }
  const char *localIPString() { return "192.168.1.50"; }

 private:
  bool up = false;
};
static FakeWiFi WiFi;
