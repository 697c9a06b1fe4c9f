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
 *
 * OVER WI-FI (WebSocket; docs/protocol.md "Wi-Fi devices")
 * Set dev.plain = 1: packets then go out without COBS, one per write()
 * (= one binary message, e.g. webSocket.sendBIN), and boot sends no lone
 * 0x00. Commands arrive as text messages: pass each to wsb_dev_command.
 * Data frames go through a wsb_ring, the resend ring below: the sketch
 * puts every frame in, sends what wsb_ring_next hands out, and on serve's
 * greeting (wsb_greeting_parse) calls wsb_ring_resume, so a Wi-Fi drop
 * shorter than the ring loses nothing. examples/wifi_ws_frames shows it.
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
    uint32_t link_bytes_per_s; /* what the link carries (serial: baud / 10) */
    uint8_t plain;             /* 1: packets without COBS, no boot 0x00 (WebSocket) */
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
    wsb__dev_send(d, wsb_encode_reply(d->ctl, d->ctl_cap, !d->plain, status, text, strlen(text)));
}

/* wsb_dev_log sends a log packet. */
static inline void wsb_dev_log(wsb_device *d, const char *text)
{
    wsb__dev_send(d, wsb_encode_log(d->ctl, d->ctl_cap, !d->plain, text, strlen(text)));
}

/* wsb_dev_send_info sends d->info. */
static inline void wsb_dev_send_info(wsb_device *d)
{
    wsb__dev_send(d, wsb_encode_info(d->ctl, d->ctl_cap, !d->plain, &d->info));
}

/* wsb_dev_rate_problem returns NULL if the hardware takes rate and the link
 * carries its frames (with 10% to spare), else why not, written to buf. */
static inline const char *wsb_dev_rate_problem(wsb_device *d, uint32_t rate, char *buf, size_t len)
{
    const wsb_info *in = &d->info;
    unsigned long frame = d->plain ? WSB_DATA_PACKET_SIZE(in->frame_samples, in->channels, wsb_sample_size(in->sample_type))
                                   : WSB_DATA_SERIAL_MAX(in->frame_samples, in->channels, wsb_sample_size(in->sample_type));
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
 * lone 0x00 (the host resynchronises there; not in plain mode), sends the
 * device info and starts sampling at info.rate. If the rate does not fit
 * the link, or the peripheral fails, it logs why and waits for commands. */
static inline void wsb_dev_boot(wsb_device *d)
{
    static const uint8_t zero = 0;
    char msg[100];
    wsb_line_reset(&d->line);
    d->running = 0;
    if (!d->plain)
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

/* wsb_dev_command runs one command line that arrived whole, e.g. a text
 * message from serve (n bytes, no line ending needed). */
static inline void wsb_dev_command(wsb_device *d, const char *line, size_t n)
{
    size_t i;
    wsb_line_reset(&d->line);
    for (i = 0; i < n; i++)
        if (line[i] != '\n')
            wsb_dev_feed(d, line[i]);
    wsb_dev_feed(d, '\n');
}

/* ------------------------------------------------------------ resend ring
 *
 * wsb_ring keeps the device's most recent data frames (v1 packets without
 * COBS) in a buffer the sketch owns, overwriting the oldest, and is at the
 * same time the send queue. It is the C twin of Go's ingest.Ring; the
 * conformance tests run both on the same operations and compare every
 * result.
 *
 *   static uint8_t ringBuf[65536];            // 2 s of 16 kHz i16 mono
 *   static wsb_ring ring;
 *   wsb_ring_init(&ring, ringBuf, sizeof ringBuf);
 *   sampler:  n = wsb_encode_data(pkt, sizeof pkt, 0, &f, samples);
 *             wsb_ring_put(&ring, pkt, n);
 *   greeting: wsb_ring_resume(&ring, g.have_last, g.last_seq);
 *   sender:   while (connected && (n = wsb_ring_next(&ring, out, sizeof out)) > 0)
 *               webSocket.sendBIN(out, n);
 *
 * Each entry is a u32 length and the packet, stored contiguously; an entry
 * that does not fit before the end of the buffer starts again at offset 0
 * (after a 0xFFFFFFFF marker when 4 or more bytes remain). So a ring of C
 * bytes holds about C / (packet + 4) frames, less at most one packet.
 *
 * Not thread-safe: when the sampler runs in its own task, wrap each call in
 * the same critical section (portENTER_CRITICAL on an ESP32); every call is
 * short (a put or a next copies one packet). wsb_ring_next copies, so the
 * slow send happens outside the critical section and a frame being sent can
 * never be overwritten under it.
 */
#define WSB_RING_ENTRY_OVERHEAD 4
#define WSB_RING_RUNS 8
#define WSB__RING_WRAP 0xFFFFFFFFUL

typedef struct {
    uint32_t put;         /* frames added */
    uint32_t sent;        /* handed out for the first time */
    uint32_t resent;      /* handed out again after a resume */
    uint32_t overwritten; /* overwritten before they were (re)sent */
    uint32_t lost;        /* sent, lacked by serve at a resume and no longer held; with
                             overwritten, every frame serve never got */
    uint32_t refused;     /* puts refused: not a data frame, bigger than the ring */
} wsb_ring_stats;

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t rd, wr;   /* offsets of the oldest entry and of the next write */
    size_t last_at;  /* offset of the newest entry */
    size_t cur_at;   /* offset of entry cur, when cur != next */
    size_t used;     /* bytes the entries occupy */
    uint32_t count;  /* entries held */
    uint32_t first;  /* absolute index of the oldest entry */
    uint32_t next;   /* absolute index of the next put */
    uint32_t cur;    /* absolute index of the next entry to send */
    uint32_t mark;   /* one past the highest index ever handed out */
    wsb_ring_stats stats;
    /* The seqs of the frames overwritten unsent since the last resume, as
     * runs (from, to, n), so that a resume gap does not count them again
     * in lost. More than WSB_RING_RUNS separate runs merge into the last. */
    uint32_t ow[WSB_RING_RUNS][3];
    uint32_t ow_n;
} wsb_ring;

/* What wsb_ring_resume decided. */
typedef struct {
    uint32_t frames; /* frames to send from the resume point (0: up to date) */
    uint32_t from;   /* seq of the first of them */
    uint8_t gap;     /* serve's last seq is older than the oldest held minus one... */
    uint8_t ahead;   /* serve's last seq is ahead of the newest held: all are sent */
    uint32_t lost;   /* ...by this many frames: the gap serve reports */
} wsb_resume;

static inline uint32_t wsb__rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wsb__wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* wsb_ring_init makes an empty ring in buf[0..cap). */
static inline void wsb_ring_init(wsb_ring *r, uint8_t *buf, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->cap = cap;
}

/* wsb__ring_after is the offset of the entry that follows the one at off. */
static inline size_t wsb__ring_after(const wsb_ring *r, size_t off)
{
    off += WSB_RING_ENTRY_OVERHEAD + wsb__rd32(r->buf + off);
    if (r->cap - off < WSB_RING_ENTRY_OVERHEAD || wsb__rd32(r->buf + off) == WSB__RING_WRAP)
        return 0;
    return off;
}

static inline uint32_t wsb__ring_seq(const wsb_ring *r, size_t off)
{
    return wsb__rd32(r->buf + off + WSB_RING_ENTRY_OVERHEAD + WSB_PREFIX_SIZE);
}

static inline int wsb__ring_fits(wsb_ring *r, size_t need)
{
    if (r->count == 0) {
        r->rd = r->wr = 0;
        return need <= r->cap;
    }
    if (r->wr > r->rd)
        return r->cap - r->wr >= need || r->rd >= need;
    if (r->wr < r->rd)
        return r->rd - r->wr >= need;
    return 0; /* wr == rd with entries: full */
}

/* wsb__ring_unsent_seq records that the frame seq was overwritten unsent. */
static inline void wsb__ring_unsent_seq(wsb_ring *r, uint32_t seq)
{
    uint32_t *last = r->ow[r->ow_n > 0 ? r->ow_n - 1 : 0];
    if ((r->ow_n > 0 && last[1] + 1 == seq) || r->ow_n == WSB_RING_RUNS) {
        last[1] = seq; /* the last run grows (over frames sent in between, when out of runs) */
        last[2]++;
        return;
    }
    r->ow[r->ow_n][0] = r->ow[r->ow_n][1] = seq;
    r->ow[r->ow_n][2] = 1;
    r->ow_n++;
}

/* wsb__ring_unsent_after is how many frames overwritten unsent since the
 * last resume have a seq after last: counted in overwritten already. */
static inline uint32_t wsb__ring_unsent_after(const wsb_ring *r, uint32_t last)
{
    uint32_t n = 0, i;
    for (i = 0; i < r->ow_n; i++) {
        if ((int32_t)(r->ow[i][0] - last) > 0)
            n += r->ow[i][2];
        else if ((int32_t)(r->ow[i][1] - last) > 0)
            n += r->ow[i][2] < r->ow[i][1] - last ? r->ow[i][2] : r->ow[i][1] - last;
    }
    return n;
}

static inline void wsb__ring_evict(wsb_ring *r)
{
    if (r->cur == r->first) {
        r->stats.overwritten++;
        wsb__ring_unsent_seq(r, wsb__ring_seq(r, r->rd));
        r->cur++;
    }
    r->used -= WSB_RING_ENTRY_OVERHEAD + wsb__rd32(r->buf + r->rd);
    r->first++;
    r->count--;
    if (r->count > 0) {
        r->rd = wsb__ring_after(r, r->rd);
        if (r->cur == r->first)
            r->cur_at = r->rd;
    }
}

/* wsb_ring_put adds a data frame of n bytes (a v1 data packet without
 * COBS), overwriting the oldest as needed. 0, or -1 if it is not a data
 * packet or bigger than the whole ring. */
static inline int wsb_ring_put(wsb_ring *r, const uint8_t *pkt, size_t n)
{
    size_t need = WSB_RING_ENTRY_OVERHEAD + n, at;
    if (n < WSB_OVERHEAD + WSB_DATA_HEADER_SIZE || pkt[0] != WSB_VERSION || pkt[1] != WSB_TYPE_DATA ||
        n > r->cap || need > r->cap) {
        r->stats.refused++;
        return -1;
    }
    while (!wsb__ring_fits(r, need))
        wsb__ring_evict(r);
    if (r->count > 0 && r->wr >= r->rd && r->cap - r->wr < need) {
        if (r->cap - r->wr >= WSB_RING_ENTRY_OVERHEAD)
            wsb__wr32(r->buf + r->wr, WSB__RING_WRAP);
        r->wr = 0;
    }
    at = r->wr;
    wsb__wr32(r->buf + at, (uint32_t)n);
    memcpy(r->buf + at + WSB_RING_ENTRY_OVERHEAD, pkt, n);
    r->wr += need;
    r->used += need;
    if (r->cur == r->next)
        r->cur_at = at;
    r->last_at = at;
    r->count++;
    r->next++;
    r->stats.put++;
    return 0;
}

/* wsb_ring_next copies the next frame to send into out and returns its
 * length: 0 when everything held has been handed out, -1 when out is too
 * small (the frame stays next). */
static inline int32_t wsb_ring_next(wsb_ring *r, uint8_t *out, size_t cap)
{
    uint32_t n;
    if (r->cur == r->next)
        return 0;
    n = wsb__rd32(r->buf + r->cur_at);
    if (n > cap)
        return -1;
    memcpy(out, r->buf + r->cur_at + WSB_RING_ENTRY_OVERHEAD, n);
    if ((int32_t)(r->cur - r->mark) < 0) {
        r->stats.resent++;
    } else {
        r->stats.sent++;
        r->mark = r->cur + 1;
    }
    r->cur++;
    if (r->cur != r->next)
        r->cur_at = wsb__ring_after(r, r->cur_at);
    return (int32_t)n;
}

/* wsb_ring_unsent is the number of frames not handed out yet. */
static inline uint32_t wsb_ring_unsent(const wsb_ring *r) { return r->next - r->cur; }

static inline wsb_resume wsb__ring_all(wsb_ring *r, uint8_t ahead)
{
    wsb_resume res;
    r->cur = r->first;
    r->cur_at = r->rd;
    res.frames = r->count;
    res.from = wsb__ring_seq(r, r->rd);
    res.gap = 0;
    res.ahead = ahead;
    res.lost = 0;
    return res;
}

/* wsb_ring_resume applies the resend rule to serve's greeting: without a
 * last seq (have_last 0) every frame held is sent again, oldest first;
 * otherwise the frames after last_seq. */
static inline wsb_resume wsb_ring_resume(wsb_ring *r, int have_last, uint32_t last_seq)
{
    wsb_resume res = {0, 0, 0, 0, 0};
    size_t off = r->rd;
    uint32_t k, ow = r->ow_n ? wsb__ring_unsent_after(r, last_seq) : 0;
    r->ow_n = 0;
    if (r->count == 0) {
        r->cur = r->next;
        return res;
    }
    if (!have_last)
        return wsb__ring_all(r, 0);
    if ((int32_t)(last_seq - wsb__ring_seq(r, r->last_at)) > 0)
        return wsb__ring_all(r, 1);
    for (k = 0; k < r->count; k++) {
        uint32_t s = wsb__ring_seq(r, off);
        if ((int32_t)(s - last_seq) > 0) {
            r->cur = r->first + k;
            r->cur_at = off;
            res.frames = r->count - k;
            res.from = s;
            if (k == 0 && s != last_seq + 1) {
                res.gap = 1;
                res.lost = s - last_seq - 1;
                r->stats.lost += res.lost - (ow < res.lost ? ow : res.lost);
            }
            return res;
        }
        if (k + 1 < r->count)
            off = wsb__ring_after(r, off);
    }
    r->cur = r->next;
    return res;
}

/* ------------------------------------------------------------- greeting */

/* What a device needs from serve's greeting. */
typedef struct {
    uint8_t have_last; /* serve has frames from this boot */
    uint32_t last_seq; /* the newest of them */
    uint8_t commands;  /* clients may send commands */
    char epoch[17];    /* the channel's epoch, NUL-terminated (for logs) */
} wsb_greeting;

/* wsb__find returns the offset just after the first occurrence of key in
 * msg[0..n), or n if there is none. */
static inline size_t wsb__find(const char *msg, size_t n, const char *key)
{
    size_t k = strlen(key), i;
    for (i = 0; i + k <= n; i++)
        if (memcmp(msg + i, key, k) == 0)
            return i + k;
    return n;
}

/* wsb_greeting_parse reads serve's greeting (compact JSON, as serve writes
 * it). It returns 1 for a greeting, 0 for any other text message (a
 * command line), -1 for a greeting it cannot read (treat it as "resend
 * everything": have_last is 0). msg need not be NUL-terminated. */
static inline int wsb_greeting_parse(const char *msg, size_t n, wsb_greeting *g)
{
    static const char prefix[] = "{\"type\":\"hello\"";
    size_t i, j;
    uint32_t v = 0;
    memset(g, 0, sizeof *g);
    if (n < sizeof prefix - 1 || memcmp(msg, prefix, sizeof prefix - 1) != 0)
        return 0;
    i = wsb__find(msg, n, ",\"epoch\":\"");
    for (j = 0; i < n && msg[i] != '"' && j < sizeof g->epoch - 1; i++, j++)
        g->epoch[j] = msg[i];
    i = wsb__find(msg, n, ",\"commands\":");
    g->commands = (uint8_t)(i + 4 <= n && memcmp(msg + i, "true", 4) == 0);
    i = wsb__find(msg, n, ",\"last_seq\":");
    if (i + 4 <= n && memcmp(msg + i, "null", 4) == 0)
        return 1;
    for (j = i; j < n && msg[j] >= '0' && msg[j] <= '9'; j++) {
        uint32_t d = (uint32_t)(msg[j] - '0');
        if (v > (0xFFFFFFFFUL - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (j == i || j == n || (msg[j] != ',' && msg[j] != '}'))
        return -1;
    g->have_last = 1;
    g->last_seq = v;
    return 1;
}

#ifdef __cplusplus
}
#endif

#endif /* WSBRIDGE_DEVICE_H */
