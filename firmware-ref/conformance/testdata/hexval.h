/*
 * hexval.h - the value of one lower-case hex digit, for the host drivers
 * wsb_host.c and wsb_ring_host.c (test code; not part of any firmware).
 */
#ifndef WSB_TEST_HEXVAL_H
#define WSB_TEST_HEXVAL_H

/* hexval returns 0..15 for '0'..'9' and 'a'..'f', else -1. */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

#endif
