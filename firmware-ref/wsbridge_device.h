/*
 * wsbridge_device.h - the protocol side of a wsbridge frames sketch,
 * header-only C99 (also compiles as C++), built on wsbridge_frame.h and
 * wsbridge_cmd.h.
 *
 * A sketch that sends data frames also owes the host: a lone 0x00 and a
 * device info packet at boot, a reply packet for every command line
 * ("rate N", "start", "stop", "info"), a new info packet after a rate
 * change, and rates the link cannot carry refused. wsb_device does all of
 * that; the sketch keeps only its hardware: start/stop the peripheral, the
 * hardware's rate range, and its data frames.
 *
 *   static wsb_device dev;
 *   setup():  dev.write = ...; dev.start = ...; ... dev.info = {...};
 *             wsb_dev_boot(&dev);
 *   loop():   while (Serial.available() > 0)
 *               wsb_dev_feed(&dev, (char)Serial.read());
 *             if (dev.running) { read the peripheral, send frames }
 *
 * dev.info.rate is the current per-channel rate: the sketch's start()
 * samples at it, and "rate N" changes it (stopping and restarting the
 * peripheral if it was running).
 *
 * RAM: sizeof(wsb_device) (about 125 bytes on an ESP32) plus the sketch's
 * ctl buffer for info/log/reply packets.
 */
#ifndef WSBRIDGE_DEVICE_H
#define WSBRIDGE_DEVICE_H

#include <stdio.h>

#include "wsbridge_cmd.h"
#include "wsbridge_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    /* Set by the sketch before wsb_dev_boot. */
    void (*write)(const uint8_t *buf, size_t n); /* the serial port */
    int (*start)(void); /* start sampling at info.rate; 0 if the peripheral failed */
    void (*stop)(void); /* stop sampling and send the partial frame; only called while running */
    /* rate_problem returns NULL if the hardware can sample at rate, else
     * writes why not to buf and returns buf. The link check is done here. */
    const char *(*rate_problem)(uint32_t rate, char *buf, size_t len);
    /* start_failed says what to check when start() fails, e.g. "adc failed to
     * start: check ADC_PINS are ADC1 pins": logged at boot, replied to
     * "start" and to a "rate N" whose restart failed. */
    const char *start_failed;
    uint32_t link_bytes_per_s; /* what the serial link carries */
    uint8_t *ctl;              /* buffer for info, log and reply packets */
    size_t ctl_cap;
    wsb_info info; /* sent at boot, on "info" and after "rate N"; info.rate = current rate */

    /* Kept by the functions below; the sketch reads running. */
    uint8_t running;
    wsb_line line;
} wsb_device;

static inline void wsb__dev_send(wsb_device *d, int32_t n)
{
    if (n > 0)
        d->write(d->ctl, (size_t)n);
}

/* wsb_dev_reply sends a reply packet: WSB_REPLY_OK or WSB_REPLY_ERROR. */
static inline void wsb_dev_reply(wsb_device *d, uint8_t status, const char *text)
{
    wsb__dev_send(d, wsb_encode_reply(d->ctl, d->ctl_cap, 1, status, text, strlen(text)));
}

/* wsb_dev_log sends a log packet. */
static inline void wsb_dev_log(wsb_device *d, const char *text)
{
    wsb__dev_send(d, wsb_encode_log(d->ctl, d->ctl_cap, 1, text, strlen(text)));
}

/* wsb_dev_send_info sends d->info. */
static inline void wsb_dev_send_info(wsb_device *d)
{
    wsb__dev_send(d, wsb_encode_info(d->ctl, d->ctl_cap, 1, &d->info));
}

/* wsb_dev_rate_problem returns NULL if the hardware takes rate and the link
 * carries its frames (with 10% to spare), else why not, written to buf. */
static inline const char *wsb_dev_rate_problem(wsb_device *d, uint32_t rate, char *buf, size_t len)
{
    const wsb_info *in = &d->info;
    unsigned long frame = WSB_DATA_SERIAL_MAX(in->frame_samples, in->channels, wsb_sample_size(in->sample_type));
    uint64_t need;
    if (d->rate_problem(rate, buf, len) != NULL)
        return buf;
    need = (uint64_t)rate * frame / in->frame_samples;
    if (need > (uint64_t)d->link_bytes_per_s * 90 / 100) {
        snprintf(buf, len, "rate %lu needs %lu B/s, more than the link carries (%lu B/s)", (unsigned long)rate,
                 (unsigned long)need, (unsigned long)d->link_bytes_per_s);
        return buf;
    }
    return NULL;
}

/* wsb_dev_start starts sampling unless running; it returns d->running. */
static inline int wsb_dev_start(wsb_device *d)
{
    if (!d->running && d->start())
        d->running = 1;
    return d->running;
}

/* wsb_dev_stop stops sampling if running. */
static inline void wsb_dev_stop(wsb_device *d)
{
    if (d->running)
        d->stop();
    d->running = 0;
}

/* wsb_dev_boot resets the line reader, ends whatever the ROM printed with a
 * lone 0x00 (the host resynchronises there), sends the device info and
 * starts sampling at info.rate. If the rate does not fit the link, or the
 * peripheral fails, it logs why and waits for commands. */
static inline void wsb_dev_boot(wsb_device *d)
{
    static const uint8_t zero = 0;
    char msg[100];
    wsb_line_reset(&d->line);
    d->running = 0;
    d->write(&zero, 1);
    wsb_dev_send_info(d);
    if (wsb_dev_rate_problem(d, d->info.rate, msg, sizeof msg) != NULL)
        wsb_dev_log(d, msg); /* the default rate does not fit this link: wait for "rate N" */
    else if (!wsb_dev_start(d))
        wsb_dev_log(d, d->start_failed);
}

static inline void wsb__dev_rate(wsb_device *d, uint32_t rate)
{
    char msg[128];
    int was = d->running;
    if (wsb_dev_rate_problem(d, rate, msg, sizeof msg) != NULL) {
        wsb_dev_reply(d, WSB_REPLY_ERROR, msg);
        return;
    }
    wsb_dev_stop(d);
    d->info.rate = rate;
    if (was && !wsb_dev_start(d)) {
        snprintf(msg, sizeof msg, "rate %lu set, but %s", (unsigned long)rate, d->start_failed);
        wsb_dev_reply(d, WSB_REPLY_ERROR, msg);
        return;
    }
    snprintf(msg, sizeof msg, "rate %lu", (unsigned long)rate);
    wsb_dev_reply(d, WSB_REPLY_OK, msg);
    wsb_dev_send_info(d);
}

/* wsb__dev_command runs one parsed command (the line in d->line) and sends
 * its reply. */
static inline void wsb__dev_command(wsb_device *d, wsb_cmd c)
{
    char msg[WSB_LINE_MAX + 24];
    switch (c.kind) {
    case WSB_CMD_EMPTY:
        break;
    case WSB_CMD_RATE:
        wsb__dev_rate(d, c.arg);
        break;
    case WSB_CMD_START:
        if (!wsb_dev_start(d))
            wsb_dev_reply(d, WSB_REPLY_ERROR, d->start_failed);
        else
            wsb_dev_reply(d, WSB_REPLY_OK, "start");
        break;
    case WSB_CMD_STOP:
        wsb_dev_stop(d);
        wsb_dev_reply(d, WSB_REPLY_OK, "stop");
        break;
    case WSB_CMD_INFO:
        wsb_dev_send_info(d);
        wsb_dev_reply(d, WSB_REPLY_OK, "info");
        break;
    case WSB_CMD_BAD_ARG:
        wsb_dev_reply(d, WSB_REPLY_ERROR, "rate needs a whole number of Hz, e.g. \"rate 16000\"");
        break;
    case WSB_CMD_TOO_LONG:
        wsb_dev_reply(d, WSB_REPLY_ERROR, "command line too long");
        break;
    default:
        snprintf(msg, sizeof msg, "unknown command \"%s\"", d->line.buf);
        wsb_dev_reply(d, WSB_REPLY_ERROR, msg);
    }
}

/* wsb_dev_feed adds one received byte; a complete line is run as a command. */
static inline void wsb_dev_feed(wsb_device *d, char ch)
{
    wsb_cmd c;
    int rc = wsb_line_feed(&d->line, ch);
    if (rc == 0)
        return;
    c = wsb_cmd_parse(d->line.buf);
    if (rc == 2)
        c.kind = WSB_CMD_TOO_LONG;
    wsb__dev_command(d, c);
}

#ifdef __cplusplus
}
#endif

#endif /* WSBRIDGE_DEVICE_H */
