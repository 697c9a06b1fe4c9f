/*
  analog_text - the beginner's sketch: analogRead values as text lines.

  Host:   wsbridge serve --port /dev/ttyUSB0 --baud 115200 --input text
  Board:  any ESP32 with the Arduino-ESP32 core (2.x or 3.x); the sketch
          uses only analogRead, micros and Serial, so it also runs on other
          Arduino boards (set PIN_A/PIN_B to analog pins there).
  Wiring: potentiometer ends to 3V3 and GND, wiper to A0 (GPIO36 on ESP32
          DevKit, GPIO1 on ESP32-S3). Optional second input on A3.

  Every sample instant is one line: "1234\r\n", or "1234,567\r\n" with
  CHANNELS 2 (the Arduino Serial Monitor and Plotter show the same lines).
  wsbridge serve --input text numbers the lines, groups them into frames and
  timestamps them on the host, so the device needs no protocol code.

  Text costs about three times the bytes of binary frames and analogRead
  takes ~10 us, so keep the rate modest: 500 Hz x 1 channel needs ~3 kB/s,
  which 115200 baud (11.5 kB/s) carries easily. For kHz rates use
  adc_dma_frames.

  Commands (lines ending in \n), answered with lines wsbridge turns into
  reply packets: "# ok ..." or "# err ...":
    rate N    sample N times per second (1..2000)
    start     resume printing
    stop      pause printing
    info      print the settings
*/

#define BAUD 115200
#define CHANNELS 1  // 1 or 2
#define PIN_A A0
#define PIN_B A3
unsigned long rateHz = 500;

bool running = true;
unsigned long periodUs = 1000000UL / 500;
unsigned long nextUs = 0;
char cmd[64];
unsigned int cmdLen = 0;

void printInfo() {
  Serial.print("# ok info rate=");
  Serial.print(rateHz);
  Serial.print(" channels=");
  Serial.print(CHANNELS);
  Serial.println(running ? " running" : " stopped");
}

void handleCommand(char *line) {
  if (strncmp(line, "rate ", 5) == 0) {
    long r = atol(line + 5);
    if (r < 1 || r > 2000) {
      Serial.println("# err rate must be 1..2000 Hz for text output");
      return;
    }
    rateHz = (unsigned long)r;
    periodUs = 1000000UL / rateHz;
    nextUs = micros();
    Serial.print("# ok rate ");
    Serial.println(rateHz);
  } else if (strcmp(line, "start") == 0) {
    running = true;
    nextUs = micros();
    Serial.println("# ok start");
  } else if (strcmp(line, "stop") == 0) {
    running = false;
    Serial.println("# ok stop");
  } else if (strcmp(line, "info") == 0) {
    printInfo();
  } else if (line[0] != 0) {
    Serial.print("# err unknown command \"");
    Serial.print(line);
    Serial.println("\"");
  }
}

void readCommands() {
  while (Serial.available() > 0) {
    char c = (char)Serial.read();
    if (c == '\n') {
      if (cmdLen > 0 && cmd[cmdLen - 1] == '\r') cmdLen--;
      cmd[cmdLen] = 0;
      handleCommand(cmd);
      cmdLen = 0;
    } else if (cmdLen < sizeof(cmd) - 1) {
      cmd[cmdLen++] = c;
    }
  }
}

void setup() {
  Serial.begin(BAUD);
  analogReadResolution(12);  // 0..4095
  Serial.println();           // end whatever the boot log left on the line
  printInfo();
  nextUs = micros();
}

void loop() {
  readCommands();
  if (!running || (long)(micros() - nextUs) < 0) return;
  nextUs += periodUs;  // fixed schedule: no drift from the time printing takes
  Serial.print(analogRead(PIN_A));
#if CHANNELS == 2
  Serial.print(',');
  Serial.print(analogRead(PIN_B));
#endif
  Serial.println();
}
