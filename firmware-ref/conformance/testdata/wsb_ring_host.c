/*
 * wsb_ring_host.c - host driver for the conformance test of wsbridge_device.h's
 * resend ring and greeting parser. One command per line on stdin, one result
 * line per command on stdout. Built by ring_test.go with gcc -std=c99 -Wall
 * -Wextra -Werror -pedantic -O2; not part of any firmware.
 *
 *   init CAP              -> ok
 *   put SEQ COUNT         -> put RC              (a u16 data frame of COUNT samples of value SEQ)
 *   next CAP              -> next LEN SEQ CRC    (LEN 0: nothing to send; -1: CAP too small)
 *   resume HAVE LAST      -> resume FRAMES FROM GAP AHEAD LOST
 *   stats                 -> stats PUT SENT RESENT OVERWRITTEN LOST REFUSED FRAMES UNSENT BYTES
 *   greet HEX             -> greet RC HAVE LAST COMMANDS EPOCH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hexval.h"
#include "wsbridge_device.h"

#define MAXCAP (1 << 20)

static uint8_t ringbuf[MAXCAP], pkt[WSB_MAX_PACKET_SIZE], out[WSB_MAX_PACKET_SIZE];
static uint16_t samples[WSB_MAX_PACKET_SIZE / 2];
static char line[1 << 16], text[1 << 15];
static wsb_ring ring;

static void put(uint32_t seq, unsigned count)
{
    wsb_frame f;
    int32_t n;
    unsigned i;
    f.seq = seq;
    f.t_dev_us = 0;
    f.rate = 16000;
    f.channels = 1;
    f.sample_type = WSB_U16;
    f.count = (uint16_t)count;
    for (i = 0; i < count; i++)
        samples[i] = (uint16_t)seq;
    n = wsb_encode_data(pkt, sizeof pkt, 0, &f, samples); /* little-endian host */
    if (n < 0) {
        fprintf(stderr, "encode failed\n");
        exit(2);
    }
    printf("put %d\n", wsb_ring_put(&ring, pkt, (size_t)n));
}

int main(void)
{
    while (fgets(line, sizeof line, stdin)) {
        char cmd[16];
        unsigned long a = 0, b = 0;
        if (sscanf(line, "%15s", cmd) != 1)
            continue;
        if (strcmp(cmd, "init") == 0 && sscanf(line, "%*s %lu", &a) == 1 && a <= MAXCAP) {
            wsb_ring_init(&ring, ringbuf, a);
            puts("ok");
        } else if (strcmp(cmd, "put") == 0 && sscanf(line, "%*s %lu %lu", &a, &b) == 2) {
            put((uint32_t)a, (unsigned)b);
        } else if (strcmp(cmd, "next") == 0 && sscanf(line, "%*s %lu", &a) == 1) {
            int32_t n = wsb_ring_next(&ring, out, a);
            if (n > 0)
                printf("next %ld %lu %08lx\n", (long)n, (unsigned long)wsb__rd32(out + 4),
                       (unsigned long)wsb_crc32c(out, (size_t)n));
            else
                printf("next %ld 0 0\n", (long)n);
        } else if (strcmp(cmd, "resume") == 0 && sscanf(line, "%*s %lu %lu", &a, &b) == 2) {
            wsb_resume r = wsb_ring_resume(&ring, (int)a, (uint32_t)b);
            printf("resume %lu %lu %u %u %lu\n", (unsigned long)r.frames, (unsigned long)r.from, r.gap, r.ahead,
                   (unsigned long)r.lost);
        } else if (strcmp(cmd, "stats") == 0) {
            printf("stats %lu %lu %lu %lu %lu %lu %lu %lu %lu\n", (unsigned long)ring.stats.put,
                   (unsigned long)ring.stats.sent, (unsigned long)ring.stats.resent,
                   (unsigned long)ring.stats.overwritten, (unsigned long)ring.stats.lost, (unsigned long)ring.stats.refused,
                   (unsigned long)ring.count, (unsigned long)wsb_ring_unsent(&ring), (unsigned long)ring.used);
        } else if (strcmp(cmd, "greet") == 0) {
            const char *h = line + 6;
            size_t n = 0;
            wsb_greeting g;
            int rc;
            while (hexval(h[0]) >= 0 && hexval(h[1]) >= 0 && n < sizeof text) {
                text[n++] = (char)(hexval(h[0]) << 4 | hexval(h[1]));
                h += 2;
            }
            rc = wsb_greeting_parse(text, n, &g);
            printf("greet %d %u %lu %u %s\n", rc, g.have_last, (unsigned long)g.last_seq, g.commands,
                   g.epoch[0] ? g.epoch : "-");
        } else {
            fprintf(stderr, "bad command: %s", line);
            return 2;
        }
    }
    return 0;
}
