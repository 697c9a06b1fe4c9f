// Runs a reference sketch on the host against the fakes in this folder.
// Build: g++ -std=gnu++17 -I shim -I <firmware-ref> -DSKETCH='"path.ino"'
// Script on stdin, one per line:
//   loop N      call loop() N times
//   tick US     advance the clock by US µs after each loop() (default 0)
//   send TEXT   queue TEXT + "\n" on Serial's input
//   overflow    the next driver read reports an overflow and drops samples
//   startfail N the ADC/I2S driver refuses to start (N=1) or starts (N=0)
//   check       print nothing; fails (exit 3) if the fakes saw misuse
//   ws...       with FAKE_WS: the network events of WebSocketsClient.h; after
//               every script line a "." record marks the end of its output
// Everything the sketch writes to Serial goes to stdout, unchanged.
#include "Arduino.h"
#include SKETCH

FakeSerial Serial;

static int misuse() {
#ifdef FAKE_I2S_CHECK
  return fake_i2s_register_while_enabled;
#else
  return 0;
#endif
}

int main() {
  char line[8192];
  uint64_t tick = 0;
  setup();
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "loop ", 5) == 0) {
      for (long n = atol(line + 5); n > 0; n--) {
        loop();
        fake_us += tick;
      }
    } else if (strncmp(line, "tick ", 5) == 0) {
      tick = strtoull(line + 5, NULL, 10);
    } else if (strncmp(line, "send ", 5) == 0) {
      strcat(line, "\n");
      Serial.feed(line + 5);
    } else if (strncmp(line, "startfail ", 10) == 0) {
      fake_start_fails = atoi(line + 10);
    } else if (strcmp(line, "overflow") == 0) {
      fake_overflow = 1;
    } else if (strcmp(line, "check") == 0) {
      if (misuse()) return 3;
#ifdef FAKE_WS
    } else if (fake_ws_command(line)) {
#endif
    } else {
      fprintf(stderr, "bad script line: %s\n", line);
      return 2;
    }
#ifdef FAKE_WS
    fputs(".\n", fake_net());
    fflush(fake_net());
    fflush(stdout);
#endif
  }
  fflush(stdout);
  return misuse() ? 3 : 0;
}
