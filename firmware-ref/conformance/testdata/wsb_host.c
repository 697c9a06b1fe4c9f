/*
 * wsb_host.c - host driver for the conformance test of wsbridge_frame.h and
 * wsbridge_cmd.h. Reads one command per line on stdin, writes one result
 * line per command on stdout (hex, "-" for empty, "ERR" when the encoder
 * refused). Built by conformance_test.go with gcc -std=c99 -Wall -Wextra
 * -Werror -O2; not part of any firmware.
 *
 *   D seq t_us rate ch type count payload chunk -> packet serial streamed capcheck
 *   I rate ch type fs name fw n [cname cunit]... -> packet serial
 *   L text                                     -> packet serial
 *   R status text                              -> packet serial
 *   C bytes                                    -> cobs (no delimiter)
 *   K bytes                                    -> crc32c (8 hex digits)
 *   P bytes                                    -> kind:arg per completed line
 *   B iterations samples                       -> ns per serial-encoded u16 frame
 *   S iterations samples                       -> same, one wsb_put_u16 per sample
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hexval.h"
#include "wsbridge_cmd.h"
#include "wsbridge_device.h" /* compiled as C99 -pedantic here; run by the sketch tests */
#include "wsbridge_frame.h"

#define BUF (WSB_SERIAL_MAX(WSB_MAX_PACKET_SIZE) + 16)

static uint8_t pkt[BUF], ser[BUF], str[BUF], in[BUF];
static char line[4 * BUF];

/* unhex decodes tok ("-" = empty) into dst and returns its length. */
static size_t unhex(const char *tok, uint8_t *dst)
{
    size_t n = 0;
    if (strcmp(tok, "-") == 0)
        return 0;
    while (tok[0] && tok[1]) {
        int hi = hexval(tok[0]), lo = hexval(tok[1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "bad hex %s\n", tok);
            exit(2);
        }
        dst[n++] = (uint8_t)(hi << 4 | lo);
        tok += 2;
    }
    return n;
}

static void puthex(const uint8_t *b, int32_t n)
{
    int32_t i;
    if (n < 0) {
        fputs("ERR", stdout);
        return;
    }
    if (n == 0)
        putchar('-');
    for (i = 0; i < n; i++)
        printf("%02x", b[i]);
}

static char *next(void)
{
    char *t = strtok(NULL, " \n");
    if (!t) {
        fprintf(stderr, "missing field\n");
        exit(2);
    }
    return t;
}

static unsigned long long num(void) { return strtoull(next(), NULL, 10); }

/* streamed encodes f through the writer API, payload in chunks. */
static int32_t streamed(const wsb_frame *f, const uint8_t *payload, size_t n, size_t chunk)
{
    wsb_writer w;
    size_t off = 0;
    wsb_init(&w, str, sizeof str, 1);
    if (wsb_begin_data(&w, f) != 0)
        return -1;
    while (off < n) {
        size_t k = (n - off < chunk) ? n - off : chunk;
        if (wsb_put(&w, payload + off, k) != 0)
            return -1;
        off += k;
    }
    return wsb_end(&w);
}

/* capcheck: an exact buffer must work and one byte less must fail. */
static const char *capcheck(const wsb_frame *f, const uint8_t *payload, int32_t want)
{
    uint8_t *tmp = malloc((size_t)want);
    int32_t exact = wsb_encode_data(tmp, (size_t)want, 1, f, payload);
    int32_t less = wsb_encode_data(tmp, (size_t)want - 1, 1, f, payload);
    free(tmp);
    return (exact == want && less == -1) ? "capok" : "capbad";
}

static void cmd_data(void)
{
    wsb_frame f;
    size_t n, chunk;
    int32_t np, ns, nt;
    f.seq = (uint32_t)num();
    f.t_dev_us = (uint64_t)num();
    f.rate = (uint32_t)num();
    f.channels = (uint8_t)num();
    f.sample_type = (uint8_t)num();
    f.count = (uint16_t)num();
    n = unhex(next(), in);
    chunk = (size_t)num();
    np = wsb_encode_data(pkt, sizeof pkt, 0, &f, in);
    ns = wsb_encode_data(ser, sizeof ser, 1, &f, in);
    nt = streamed(&f, in, n, chunk ? chunk : 1);
    puthex(pkt, np);
    putchar(' ');
    puthex(ser, ns);
    putchar(' ');
    puthex(str, nt);
    printf(" %s\n", ns > 0 ? capcheck(&f, in, ns) : "-");
}

static void cmd_info(void)
{
    static char names[2 + 2 * 255][256];
    wsb_channel ch[255];
    wsb_info info;
    size_t k;
    int i;
    info.rate = (uint32_t)num();
    info.channels = (uint8_t)num();
    info.sample_type = (uint8_t)num();
    info.frame_samples = (uint16_t)num();
    k = unhex(next(), (uint8_t *)names[0]);
    names[0][k] = 0;
    k = unhex(next(), (uint8_t *)names[1]);
    names[1][k] = 0;
    info.name = names[0];
    info.firmware = names[1];
    info.n_channel_info = (uint8_t)num();
    for (i = 0; i < info.n_channel_info; i++) {
        k = unhex(next(), (uint8_t *)names[2 + 2 * i]);
        names[2 + 2 * i][k] = 0;
        k = unhex(next(), (uint8_t *)names[3 + 2 * i]);
        names[3 + 2 * i][k] = 0;
        ch[i].name = names[2 + 2 * i];
        ch[i].unit = names[3 + 2 * i];
    }
    info.channel_info = ch;
    puthex(pkt, wsb_encode_info(pkt, sizeof pkt, 0, &info));
    putchar(' ');
    puthex(ser, wsb_encode_info(ser, sizeof ser, 1, &info));
    putchar('\n');
}

static void cmd_text(int reply)
{
    uint8_t status = reply ? (uint8_t)num() : 0;
    size_t n = unhex(next(), in);
    if (reply) {
        puthex(pkt, wsb_encode_reply(pkt, sizeof pkt, 0, status, in, n));
        putchar(' ');
        puthex(ser, wsb_encode_reply(ser, sizeof ser, 1, status, in, n));
    } else {
        puthex(pkt, wsb_encode_log(pkt, sizeof pkt, 0, in, n));
        putchar(' ');
        puthex(ser, wsb_encode_log(ser, sizeof ser, 1, in, n));
    }
    putchar('\n');
}

static void cmd_lines(void)
{
    static wsb_line l;
    size_t n = unhex(next(), in), i;
    int any = 0;
    wsb_line_reset(&l);
    for (i = 0; i < n; i++) {
        int rc = wsb_line_feed(&l, (char)in[i]);
        wsb_cmd c;
        if (rc == 0)
            continue;
        c = wsb_cmd_parse(l.buf);
        if (rc == 2)
            c.kind = WSB_CMD_TOO_LONG, c.arg = 0;
        printf("%s%d:%lu", any ? " " : "", c.kind, (unsigned long)c.arg);
        any = 1;
    }
    puts(any ? "" : "-");
}

/* bench encodes a 1-channel u16 frame of the given size repeatedly into its
 * serial form through the streaming API, as a sketch does, and prints the
 * mean time per frame in ns: the payload in one wsb_put, or (per_sample)
 * one wsb_put_u16 per sample as a sketch converting samples on the way. */
static void cmd_bench(int per_sample)
{
    unsigned long iters = (unsigned long)num(), i;
    wsb_frame f = {0, 0, 16000, 1, WSB_U16, 0};
    struct timespec a, b;
    volatile int32_t sink = 0;
    f.count = (uint16_t)num();
    for (i = 0; i < 2u * f.count; i++)
        in[i] = (uint8_t)(i * 37u);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < iters; i++) {
        wsb_writer w;
        f.seq = (uint32_t)i;
        wsb_init(&w, ser, sizeof ser, 1);
        wsb_begin_data(&w, &f);
        if (per_sample) {
            unsigned k;
            for (k = 0; k < f.count; k++)
                wsb_put_u16(&w, (uint16_t)(in[2 * k] | in[2 * k + 1] << 8));
        } else {
            wsb_put(&w, in, 2u * f.count);
        }
        sink += wsb_end(&w);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f %ld\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)iters,
           (long)sink);
}

int main(void)
{
    while (fgets(line, sizeof line, stdin)) {
        char *op = strtok(line, " \n");
        size_t n;
        if (!op)
            continue;
        switch (op[0]) {
        case 'D': cmd_data(); break;
        case 'I': cmd_info(); break;
        case 'L': cmd_text(0); break;
        case 'R': cmd_text(1); break;
        case 'C':
            n = unhex(next(), in);
            puthex(ser, wsb_cobs_encode(ser, sizeof ser, in, n));
            putchar('\n');
            break;
        case 'K':
            n = unhex(next(), in);
            printf("%08lx\n", (unsigned long)wsb_crc32c(in, n));
            break;
        case 'P': cmd_lines(); break;
        case 'B': cmd_bench(0); break;
        case 'S': cmd_bench(1); break;
        default:
            fprintf(stderr, "unknown op %s\n", op);
            return 2;
        }
    }
    return 0;
}
