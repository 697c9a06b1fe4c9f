/*
 * wsbridge_cmd.h - the device side of wsbridge's text commands, header-only C99.
 *
 * The host (wsbridge serve, or a user typing) sends commands as text lines
 * ending in "\n" ("\r\n" is accepted): "rate N", "start", "stop", "info".
 * Feed received bytes to wsb_line_feed one at a time; when it returns 1 a
 * complete line is in line->buf, NUL-terminated, for wsb_cmd_parse. The
 * sketch answers every line with one TypeReply packet (see the sketches).
 *
 * RAM: one wsb_line, WSB_LINE_MAX + 2 bytes. Overlong lines are reported
 * once as WSB_CMD_TOO_LONG and their rest is discarded, so a burst of
 * garbage can never grow memory or wedge the parser.
 */
#ifndef WSBRIDGE_CMD_H
#define WSBRIDGE_CMD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WSB_LINE_MAX
#define WSB_LINE_MAX 62
#endif

typedef struct {
    char buf[WSB_LINE_MAX + 1]; /* the line, NUL-terminated, without \r\n */
    uint8_t len;
    uint8_t overflow; /* the current line is longer than WSB_LINE_MAX */
} wsb_line;

static inline void wsb_line_reset(wsb_line *l)
{
    l->len = 0;
    l->overflow = 0;
    l->buf[0] = 0;
}

/* wsb_line_feed adds c to the line. It returns 1 when c ends a line (the
 * line is in l->buf until the next call), 2 when c ends a line that was too
 * long (l->buf is empty), else 0. */
static inline int wsb_line_feed(wsb_line *l, char c)
{
    if (c == '\n') {
        int rc = l->overflow ? 2 : 1;
        if (l->len > 0 && l->buf[l->len - 1] == '\r')
            l->len--;
        l->buf[l->overflow ? 0 : l->len] = 0;
        l->len = 0;
        l->overflow = 0;
        return rc;
    }
    if (l->len >= WSB_LINE_MAX) {
        l->overflow = 1;
        return 0;
    }
    l->buf[l->len++] = c;
    return 0;
}

/* Parsed command kinds. */
enum {
    WSB_CMD_EMPTY = 0,    /* blank line: ignore, no reply */
    WSB_CMD_RATE = 1,     /* "rate N": arg = N */
    WSB_CMD_START = 2,    /* "start" */
    WSB_CMD_STOP = 3,     /* "stop" */
    WSB_CMD_INFO = 4,     /* "info" */
    WSB_CMD_UNKNOWN = 5,  /* anything else: reply error */
    WSB_CMD_BAD_ARG = 6,  /* "rate" without a number in 1..4294967295 */
    WSB_CMD_TOO_LONG = 7  /* a line longer than WSB_LINE_MAX */
};

typedef struct {
    int kind;
    uint32_t arg;
} wsb_cmd;

static inline int wsb__space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* wsb__word reports whether s starts with the word w followed by the end of
 * the line or a space, and returns the rest after spaces in *rest. */
static inline int wsb__word(const char *s, const char *w, const char **rest)
{
    while (*w)
        if (*s++ != *w++)
            return 0;
    if (*s && !wsb__space(*s))
        return 0;
    while (wsb__space(*s))
        s++;
    *rest = s;
    return 1;
}

/* wsb__u32 parses a decimal number that fills all of s. */
static inline int wsb__u32(const char *s, uint32_t *v)
{
    uint32_t n = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint32_t d = (uint32_t)(*p - '0');
        if (n > (0xFFFFFFFFUL - d) / 10)
            return 0;
        n = n * 10 + d;
    }
    while (wsb__space(*p))
        p++;
    if (p == s || *p || n == 0)
        return 0;
    *v = n;
    return 1;
}

/* wsb_cmd_parse classifies one line (leading spaces are skipped). */
static inline wsb_cmd wsb_cmd_parse(const char *line)
{
    wsb_cmd c;
    const char *rest = line;
    c.kind = WSB_CMD_UNKNOWN;
    c.arg = 0;
    while (wsb__space(*line))
        line++;
    if (*line == 0)
        c.kind = WSB_CMD_EMPTY;
    else if (wsb__word(line, "rate", &rest))
        c.kind = wsb__u32(rest, &c.arg) ? WSB_CMD_RATE : WSB_CMD_BAD_ARG;
    else if (wsb__word(line, "start", &rest) && *rest == 0)
        c.kind = WSB_CMD_START;
    else if (wsb__word(line, "stop", &rest) && *rest == 0)
        c.kind = WSB_CMD_STOP;
    else if (wsb__word(line, "info", &rest) && *rest == 0)
        c.kind = WSB_CMD_INFO;
    return c;
}

#ifdef __cplusplus
}
#endif

#endif /* WSBRIDGE_CMD_H */
