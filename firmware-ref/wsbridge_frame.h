/*
 * wsbridge_frame.h - encoder for the wsbridge v1 wire format, for small MCUs.
 *
 * Header-only C99 (also compiles as C++). No heap, no globals that change,
 * no dependency beyond <stdint.h>, <stddef.h> and <string.h>. Every function
 * writes into a buffer the caller owns and checks its capacity.
 *
 * WHAT IT PRODUCES (byte for byte what the Go package internal/frame does)
 *   packet = version u8 (=1) | type u8 | body_len u16 LE | body | CRC-32C u32 LE
 *            (the CRC covers version..body)
 *   data body   = seq u32 | t_dev_us u64 | rate u32 | channels u8 |
 *                 sample_type u8 | count u16 | payload (LE, channels interleaved)
 *   info body   = rate u32 | channels u8 | sample_type u8 | frame_samples u16 |
 *                 name str8 | firmware str8 | n u8 | n x (name str8, unit str8)
 *   log body    = text
 *   reply body  = status u8 (0 ok, 1 error) | text
 *   serial line = COBS(packet) | 0x00
 *
 * RETURN VALUES
 *   Functions that fill a buffer (wsb_encode_*, wsb_cobs_encode, wsb_end)
 *   return the number of bytes now in the buffer, or -1 if it would overflow
 *   or an argument is invalid. Functions that add to a packet under
 *   construction (wsb_begin*, wsb_put*) return 0, or -1 on overflow or
 *   misuse. Errors are sticky: once a writer failed, every later call on it
 *   returns -1 until wsb_init is called again, so a sketch may check only the
 *   final wsb_end().
 *
 * RAM
 *   wsb_writer: 28 bytes on a 32-bit MCU (ESP32), on the caller's stack.
 *   The output buffer: WSB_SERIAL_MAX(packet size) bytes for the serial form,
 *   e.g. WSB_DATA_SERIAL_MAX(256, 1, 2) = 544 bytes for 256 u16 samples.
 *   Nothing else: the streaming API (wsb_begin_data + wsb_put_*) packs the
 *   header, the samples and the CRC straight into the COBS output, so no
 *   separate packet buffer is needed.
 *
 * CRC-32C IMPLEMENTATION (choose with WSB_CRC_MODE before including)
 *   2 (default) 256-entry table: 1 KiB of const data (flash on ESP32: .rodata
 *               in DROM), one lookup per byte.
 *   1           16-entry table: 64 bytes, two lookups per byte.
 *   0           bitwise: no table, 8 shift/xor steps per byte. Choose 0 or 1
 *               where const data lands in RAM (AVR without PROGMEM).
 *   Whole-encoder cost (header + 512-byte payload + CRC + COBS into the
 *   serial buffer), x86-64 instructions per frame with gcc -O2 (valgrind
 *   --tool=callgrind on the conformance host program): mode 2 about 12k,
 *   mode 1 about 15k, mode 0 about 46k; putting the payload one sample at a
 *   time (wsb_put_u16) adds about 6k. Wall-clock figures:
 *   go test -bench CEncoder ./firmware-ref/conformance. Even mode 0 on a
 *   240 MHz ESP32 (not measured here) then encodes a 16 kHz u16 stream in
 *   1-2% of one core, faster than any UART or USB CDC link can carry.
 *   Do NOT substitute the ESP32 ROM/hardware crc32 (esp_rom_crc32_le): it is
 *   the IEEE polynomial, not Castagnoli, and the host rejects every packet.
 *   The table is `static const`, so each translation unit that includes this
 *   header and uses the CRC gets its own copy; include it in one .ino/.cpp.
 *
 * THREADS AND ISRs
 *   All functions are reentrant; a writer must be used by one task at a
 *   time. Do not call from an ISR that may run while the flash cache is
 *   disabled (the CRC table is in flash).
 */
#ifndef WSBRIDGE_FRAME_H
#define WSBRIDGE_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WSB_VERSION 1

/* Packet types (second byte of every packet). */
#define WSB_TYPE_DATA 0x01
#define WSB_TYPE_INFO 0x02
#define WSB_TYPE_LOG 0x03
#define WSB_TYPE_REPLY 0x04

/* Sample types of a data frame. */
#define WSB_U16 0x01 /* raw 12-bit ADC words */
#define WSB_I16 0x02 /* 16-bit PCM */
#define WSB_I32 0x03 /* 24-bit I2S microphones, sign-extended */
#define WSB_F32 0x04 /* IEEE 754 binary32 */

/* Reply status. */
#define WSB_REPLY_OK 0
#define WSB_REPLY_ERROR 1

/* Sizes, in bytes. */
#define WSB_PREFIX_SIZE 4
#define WSB_CRC_SIZE 4
#define WSB_OVERHEAD 8
#define WSB_DATA_HEADER_SIZE 20
#define WSB_MAX_PACKET_SIZE 65536UL
#define WSB_MAX_BODY_SIZE (WSB_MAX_PACKET_SIZE - WSB_OVERHEAD)

/* Longest COBS encoding of n bytes (no delimiter), and with the delimiter. */
#define WSB_COBS_MAX(n) ((n) + (n) / 254 + 1)
#define WSB_SERIAL_MAX(n) (WSB_COBS_MAX(n) + 1)

/* Packet size of a data frame, and the buffer its serial form needs. */
#define WSB_DATA_PACKET_SIZE(count, channels, sample_size) \
    (WSB_OVERHEAD + WSB_DATA_HEADER_SIZE + (unsigned long)(count) * (channels) * (sample_size))
#define WSB_DATA_SERIAL_MAX(count, channels, sample_size) \
    WSB_SERIAL_MAX(WSB_DATA_PACKET_SIZE(count, channels, sample_size))

#ifndef WSB_CRC_MODE
#define WSB_CRC_MODE 2
#endif

/* ------------------------------------------------------------------ CRC-32C */

/* Running CRC-32C: state = wsb_crc32c_init(); state = wsb_crc32c_update(...);
 * crc = wsb_crc32c_final(state). */
static inline uint32_t wsb_crc32c_init(void) { return 0xFFFFFFFFUL; }
static inline uint32_t wsb_crc32c_final(uint32_t state) { return state ^ 0xFFFFFFFFUL; }

#if WSB_CRC_MODE == 2
static const uint32_t wsb_crc32c_table[256] = {
    0x00000000UL, 0xF26B8303UL, 0xE13B70F7UL, 0x1350F3F4UL,
    0xC79A971FUL, 0x35F1141CUL, 0x26A1E7E8UL, 0xD4CA64EBUL,
    0x8AD958CFUL, 0x78B2DBCCUL, 0x6BE22838UL, 0x9989AB3BUL,
    0x4D43CFD0UL, 0xBF284CD3UL, 0xAC78BF27UL, 0x5E133C24UL,
    0x105EC76FUL, 0xE235446CUL, 0xF165B798UL, 0x030E349BUL,
    0xD7C45070UL, 0x25AFD373UL, 0x36FF2087UL, 0xC494A384UL,
    0x9A879FA0UL, 0x68EC1CA3UL, 0x7BBCEF57UL, 0x89D76C54UL,
    0x5D1D08BFUL, 0xAF768BBCUL, 0xBC267848UL, 0x4E4DFB4BUL,
    0x20BD8EDEUL, 0xD2D60DDDUL, 0xC186FE29UL, 0x33ED7D2AUL,
    0xE72719C1UL, 0x154C9AC2UL, 0x061C6936UL, 0xF477EA35UL,
    0xAA64D611UL, 0x580F5512UL, 0x4B5FA6E6UL, 0xB93425E5UL,
    0x6DFE410EUL, 0x9F95C20DUL, 0x8CC531F9UL, 0x7EAEB2FAUL,
    0x30E349B1UL, 0xC288CAB2UL, 0xD1D83946UL, 0x23B3BA45UL,
    0xF779DEAEUL, 0x05125DADUL, 0x1642AE59UL, 0xE4292D5AUL,
    0xBA3A117EUL, 0x4851927DUL, 0x5B016189UL, 0xA96AE28AUL,
    0x7DA08661UL, 0x8FCB0562UL, 0x9C9BF696UL, 0x6EF07595UL,
    0x417B1DBCUL, 0xB3109EBFUL, 0xA0406D4BUL, 0x522BEE48UL,
    0x86E18AA3UL, 0x748A09A0UL, 0x67DAFA54UL, 0x95B17957UL,
    0xCBA24573UL, 0x39C9C670UL, 0x2A993584UL, 0xD8F2B687UL,
    0x0C38D26CUL, 0xFE53516FUL, 0xED03A29BUL, 0x1F682198UL,
    0x5125DAD3UL, 0xA34E59D0UL, 0xB01EAA24UL, 0x42752927UL,
    0x96BF4DCCUL, 0x64D4CECFUL, 0x77843D3BUL, 0x85EFBE38UL,
    0xDBFC821CUL, 0x2997011FUL, 0x3AC7F2EBUL, 0xC8AC71E8UL,
    0x1C661503UL, 0xEE0D9600UL, 0xFD5D65F4UL, 0x0F36E6F7UL,
    0x61C69362UL, 0x93AD1061UL, 0x80FDE395UL, 0x72966096UL,
    0xA65C047DUL, 0x5437877EUL, 0x4767748AUL, 0xB50CF789UL,
    0xEB1FCBADUL, 0x197448AEUL, 0x0A24BB5AUL, 0xF84F3859UL,
    0x2C855CB2UL, 0xDEEEDFB1UL, 0xCDBE2C45UL, 0x3FD5AF46UL,
    0x7198540DUL, 0x83F3D70EUL, 0x90A324FAUL, 0x62C8A7F9UL,
    0xB602C312UL, 0x44694011UL, 0x5739B3E5UL, 0xA55230E6UL,
    0xFB410CC2UL, 0x092A8FC1UL, 0x1A7A7C35UL, 0xE811FF36UL,
    0x3CDB9BDDUL, 0xCEB018DEUL, 0xDDE0EB2AUL, 0x2F8B6829UL,
    0x82F63B78UL, 0x709DB87BUL, 0x63CD4B8FUL, 0x91A6C88CUL,
    0x456CAC67UL, 0xB7072F64UL, 0xA457DC90UL, 0x563C5F93UL,
    0x082F63B7UL, 0xFA44E0B4UL, 0xE9141340UL, 0x1B7F9043UL,
    0xCFB5F4A8UL, 0x3DDE77ABUL, 0x2E8E845FUL, 0xDCE5075CUL,
    0x92A8FC17UL, 0x60C37F14UL, 0x73938CE0UL, 0x81F80FE3UL,
    0x55326B08UL, 0xA759E80BUL, 0xB4091BFFUL, 0x466298FCUL,
    0x1871A4D8UL, 0xEA1A27DBUL, 0xF94AD42FUL, 0x0B21572CUL,
    0xDFEB33C7UL, 0x2D80B0C4UL, 0x3ED04330UL, 0xCCBBC033UL,
    0xA24BB5A6UL, 0x502036A5UL, 0x4370C551UL, 0xB11B4652UL,
    0x65D122B9UL, 0x97BAA1BAUL, 0x84EA524EUL, 0x7681D14DUL,
    0x2892ED69UL, 0xDAF96E6AUL, 0xC9A99D9EUL, 0x3BC21E9DUL,
    0xEF087A76UL, 0x1D63F975UL, 0x0E330A81UL, 0xFC588982UL,
    0xB21572C9UL, 0x407EF1CAUL, 0x532E023EUL, 0xA145813DUL,
    0x758FE5D6UL, 0x87E466D5UL, 0x94B49521UL, 0x66DF1622UL,
    0x38CC2A06UL, 0xCAA7A905UL, 0xD9F75AF1UL, 0x2B9CD9F2UL,
    0xFF56BD19UL, 0x0D3D3E1AUL, 0x1E6DCDEEUL, 0xEC064EEDUL,
    0xC38D26C4UL, 0x31E6A5C7UL, 0x22B65633UL, 0xD0DDD530UL,
    0x0417B1DBUL, 0xF67C32D8UL, 0xE52CC12CUL, 0x1747422FUL,
    0x49547E0BUL, 0xBB3FFD08UL, 0xA86F0EFCUL, 0x5A048DFFUL,
    0x8ECEE914UL, 0x7CA56A17UL, 0x6FF599E3UL, 0x9D9E1AE0UL,
    0xD3D3E1ABUL, 0x21B862A8UL, 0x32E8915CUL, 0xC083125FUL,
    0x144976B4UL, 0xE622F5B7UL, 0xF5720643UL, 0x07198540UL,
    0x590AB964UL, 0xAB613A67UL, 0xB831C993UL, 0x4A5A4A90UL,
    0x9E902E7BUL, 0x6CFBAD78UL, 0x7FAB5E8CUL, 0x8DC0DD8FUL,
    0xE330A81AUL, 0x115B2B19UL, 0x020BD8EDUL, 0xF0605BEEUL,
    0x24AA3F05UL, 0xD6C1BC06UL, 0xC5914FF2UL, 0x37FACCF1UL,
    0x69E9F0D5UL, 0x9B8273D6UL, 0x88D28022UL, 0x7AB90321UL,
    0xAE7367CAUL, 0x5C18E4C9UL, 0x4F48173DUL, 0xBD23943EUL,
    0xF36E6F75UL, 0x0105EC76UL, 0x12551F82UL, 0xE03E9C81UL,
    0x34F4F86AUL, 0xC69F7B69UL, 0xD5CF889DUL, 0x27A40B9EUL,
    0x79B737BAUL, 0x8BDCB4B9UL, 0x988C474DUL, 0x6AE7C44EUL,
    0xBE2DA0A5UL, 0x4C4623A6UL, 0x5F16D052UL, 0xAD7D5351UL,
};
static inline uint32_t wsb_crc32c_byte(uint32_t s, uint8_t b)
{
    return (s >> 8) ^ wsb_crc32c_table[(s ^ b) & 0xFFu];
}
#elif WSB_CRC_MODE == 1
static const uint32_t wsb_crc32c_nibble[16] = {
    0x00000000UL, 0x105EC76FUL, 0x20BD8EDEUL, 0x30E349B1UL,
    0x417B1DBCUL, 0x5125DAD3UL, 0x61C69362UL, 0x7198540DUL,
    0x82F63B78UL, 0x92A8FC17UL, 0xA24BB5A6UL, 0xB21572C9UL,
    0xC38D26C4UL, 0xD3D3E1ABUL, 0xE330A81AUL, 0xF36E6F75UL,
};
static inline uint32_t wsb_crc32c_byte(uint32_t s, uint8_t b)
{
    s ^= b;
    s = (s >> 4) ^ wsb_crc32c_nibble[s & 0x0Fu];
    return (s >> 4) ^ wsb_crc32c_nibble[s & 0x0Fu];
}
#elif WSB_CRC_MODE == 0
static inline uint32_t wsb_crc32c_byte(uint32_t s, uint8_t b)
{
    int k;
    s ^= b;
    for (k = 0; k < 8; k++)
        s = (s >> 1) ^ (0x82F63B78UL & (0UL - (s & 1u)));
    return s;
}
#else
#error "WSB_CRC_MODE must be 0 (bitwise), 1 (16-entry table) or 2 (256-entry table)"
#endif

static inline uint32_t wsb_crc32c_update(uint32_t state, const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    while (n--)
        state = wsb_crc32c_byte(state, *p++);
    return state;
}

/* CRC-32C of n bytes, as carried in packet trailers. */
static inline uint32_t wsb_crc32c(const void *data, size_t n)
{
    return wsb_crc32c_final(wsb_crc32c_update(wsb_crc32c_init(), data, n));
}

/* ------------------------------------------------------------------ writer */

/* A wsb_writer builds packets into one caller-owned buffer, either as plain
 * packets (cobs = 0: what a WebSocket binary message carries) or in their
 * serial form (cobs = 1: COBS-encoded, each followed by a 0x00 delimiter).
 * Several packets may be written one after another into the same buffer.
 *
 *   wsb_writer w;
 *   wsb_init(&w, out, sizeof out, 1);
 *   wsb_begin_data(&w, &hdr);            header
 *   wsb_put(&w, samples, nbytes);        payload, in as many pieces as you like
 *   int32_t n = wsb_end(&w);             CRC, COBS end, delimiter; -1 on error
 *   Serial.write(out, n);
 */
typedef struct {
    uint8_t *out;     /* output buffer */
    size_t cap;       /* its capacity */
    size_t len;       /* bytes written to out so far */
    size_t code_at;   /* COBS: index of the open block's code byte */
    size_t body_left; /* body bytes declared by wsb_begin and not yet put */
    uint32_t crc;     /* running CRC-32C state of the open packet */
    uint8_t code;     /* COBS: 1 + bytes in the open block */
    uint8_t cobs;     /* 1: serial form, 0: plain packets */
    uint8_t state;    /* WSB__IDLE, WSB__OPEN or WSB__FAILED */
} wsb_writer;

#define WSB__IDLE 0
#define WSB__OPEN 1
#define WSB__FAILED 2

/* wsb_init resets w to write into out[0..cap). */
static inline void wsb_init(wsb_writer *w, uint8_t *out, size_t cap, int cobs)
{
    w->out = out;
    w->cap = cap;
    w->len = 0;
    w->code_at = 0;
    w->body_left = 0;
    w->crc = 0;
    w->code = 1;
    w->cobs = (uint8_t)(cobs != 0);
    w->state = (out == NULL) ? WSB__FAILED : WSB__IDLE;
}

static inline int wsb__fail(wsb_writer *w)
{
    w->state = WSB__FAILED;
    return -1;
}

/* wsb__open_block starts a COBS block: a placeholder for its code byte. */
static inline void wsb__open_block(wsb_writer *w)
{
    if (w->len >= w->cap) {
        w->state = WSB__FAILED;
        return;
    }
    w->code_at = w->len;
    w->out[w->len++] = 0;
    w->code = 1;
}

/* wsb__cobs appends n packet bytes in COBS form. This is the
 * Cheshire-Baker encoder exactly as Go's frame.AppendCOBS: a zero byte or a
 * full 254-byte run closes the block, so a packet whose last run is exactly
 * 254 bytes long ends with an extra 0x01 block. The writer's fields live in
 * locals for the loop: this runs for every payload byte. */
static inline void wsb__cobs(wsb_writer *w, const uint8_t *p, size_t n)
{
    uint8_t *out = w->out;
    size_t len = w->len, cap = w->cap, code_at = w->code_at;
    uint8_t code = w->code;
    while (n--) {
        uint8_t b = *p++;
        if (b != 0) {
            if (len >= cap)
                goto fail;
            out[len++] = b;
            if (++code != 0xFF)
                continue;
        }
        out[code_at] = code; /* close the block, open the next */
        if (len >= cap)
            goto fail;
        code_at = len;
        out[len++] = 0;
        code = 1;
    }
    w->len = len;
    w->code_at = code_at;
    w->code = code;
    return;
fail:
    w->state = WSB__FAILED;
}

/* wsb__bytes emits n bytes (COBS-encoded in serial form), adding them to
 * the CRC if crc is set. */
static inline void wsb__bytes(wsb_writer *w, const uint8_t *p, size_t n, int crc)
{
    if (w->state == WSB__FAILED)
        return;
    if (crc)
        w->crc = wsb_crc32c_update(w->crc, p, n);
    if (w->cobs) {
        wsb__cobs(w, p, n);
    } else if (n > w->cap - w->len) {
        w->state = WSB__FAILED;
    } else {
        memcpy(w->out + w->len, p, n);
        w->len += n;
    }
}

/* wsb_begin opens a packet of the given type whose body will be exactly
 * body_len bytes, and writes its 4-byte prefix. */
static inline int wsb_begin(wsb_writer *w, uint8_t type, size_t body_len)
{
    uint8_t prefix[WSB_PREFIX_SIZE];
    if (w->state != WSB__IDLE || body_len > WSB_MAX_BODY_SIZE)
        return wsb__fail(w);
    if (w->cobs)
        wsb__open_block(w);
    w->state = (w->state == WSB__FAILED) ? WSB__FAILED : WSB__OPEN;
    w->crc = wsb_crc32c_init();
    w->body_left = body_len;
    prefix[0] = WSB_VERSION;
    prefix[1] = type;
    prefix[2] = (uint8_t)(body_len & 0xFFu);
    prefix[3] = (uint8_t)((body_len >> 8) & 0xFFu);
    wsb__bytes(w, prefix, sizeof prefix, 1);
    return w->state == WSB__OPEN ? 0 : -1;
}

/* wsb_put adds n body bytes to the open packet. Putting more than the body
 * length declared in wsb_begin is an error. */
static inline int wsb_put(wsb_writer *w, const void *data, size_t n)
{
    if (w->state != WSB__OPEN || n > w->body_left)
        return wsb__fail(w);
    w->body_left -= n;
    wsb__bytes(w, (const uint8_t *)data, n, 1);
    return w->state == WSB__OPEN ? 0 : -1;
}

static inline int wsb_put_u8(wsb_writer *w, uint8_t v) { return wsb_put(w, &v, 1); }

static inline int wsb_put_u16(wsb_writer *w, uint16_t v)
{
    uint8_t b[2];
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    return wsb_put(w, b, 2);
}

static inline int wsb_put_u32(wsb_writer *w, uint32_t v)
{
    uint8_t b[4];
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
    return wsb_put(w, b, 4);
}

static inline int wsb_put_u64(wsb_writer *w, uint64_t v)
{
    if (wsb_put_u32(w, (uint32_t)v) != 0)
        return -1;
    return wsb_put_u32(w, (uint32_t)(v >> 32));
}

/* Sample puts, little-endian whatever the CPU. On little-endian MCUs (ESP32,
 * ARM Cortex-M, AVR) wsb_put(w, array, n * size) gives the same bytes. */
static inline int wsb_put_i16(wsb_writer *w, int16_t v) { return wsb_put_u16(w, (uint16_t)v); }
static inline int wsb_put_i32(wsb_writer *w, int32_t v) { return wsb_put_u32(w, (uint32_t)v); }

static inline int wsb_put_f32(wsb_writer *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return wsb_put_u32(w, u);
}

/* wsb_end closes the open packet: CRC trailer, then in serial form the last
 * COBS code byte and the 0x00 delimiter. It returns the number of bytes in
 * the buffer (all packets written since wsb_init), or -1. */
static inline int32_t wsb_end(wsb_writer *w)
{
    uint8_t b[WSB_CRC_SIZE];
    uint32_t crc;
    if (w->state != WSB__OPEN || w->body_left != 0)
        return wsb__fail(w);
    crc = wsb_crc32c_final(w->crc);
    b[0] = (uint8_t)crc;
    b[1] = (uint8_t)(crc >> 8);
    b[2] = (uint8_t)(crc >> 16);
    b[3] = (uint8_t)(crc >> 24);
    wsb__bytes(w, b, sizeof b, 0);
    if (w->state != WSB__OPEN)
        return -1;
    if (w->cobs) {
        w->out[w->code_at] = w->code;
        if (w->len >= w->cap)
            return wsb__fail(w);
        w->out[w->len++] = 0;
    }
    w->state = WSB__IDLE;
    return (int32_t)w->len;
}

/* ------------------------------------------------------------------ packets */

/* Header of a data frame. count is the number of sample instants; the
 * payload is count * channels samples, channels interleaved. */
typedef struct {
    uint32_t seq;        /* 0 at boot, +1 per data frame, wraps at 2^32 */
    uint64_t t_dev_us;   /* device time of the first sample, µs */
    uint32_t rate;       /* sample rate, Hz */
    uint8_t channels;    /* >= 1 */
    uint8_t sample_type; /* WSB_U16, WSB_I16, WSB_I32 or WSB_F32 */
    uint16_t count;      /* sample instants in this frame */
} wsb_frame;

/* wsb_sample_size is the size of one sample of type t, or 0 if unknown. */
static inline size_t wsb_sample_size(uint8_t t)
{
    switch (t) {
    case WSB_U16:
    case WSB_I16:
        return 2;
    case WSB_I32:
    case WSB_F32:
        return 4;
    }
    return 0;
}

/* wsb_payload_size is the payload size the header describes. */
static inline size_t wsb_payload_size(const wsb_frame *f)
{
    return (size_t)f->count * f->channels * wsb_sample_size(f->sample_type);
}

/* wsb_begin_data opens a data frame and writes its header; put exactly
 * wsb_payload_size(f) payload bytes next, then call wsb_end. */
static inline int wsb_begin_data(wsb_writer *w, const wsb_frame *f)
{
    size_t payload = wsb_payload_size(f);
    if (f->channels == 0 || wsb_sample_size(f->sample_type) == 0 ||
        payload > WSB_MAX_BODY_SIZE - WSB_DATA_HEADER_SIZE)
        return wsb__fail(w);
    if (wsb_begin(w, WSB_TYPE_DATA, WSB_DATA_HEADER_SIZE + payload) != 0 ||
        wsb_put_u32(w, f->seq) != 0 || wsb_put_u64(w, f->t_dev_us) != 0 ||
        wsb_put_u32(w, f->rate) != 0 || wsb_put_u8(w, f->channels) != 0 ||
        wsb_put_u8(w, f->sample_type) != 0)
        return -1;
    return wsb_put_u16(w, f->count);
}

/* wsb_write_data writes a whole data frame whose payload is already laid
 * out little-endian (on an ESP32: a plain uint16_t/int16_t/int32_t array). */
static inline int wsb_write_data(wsb_writer *w, const wsb_frame *f, const void *payload)
{
    if (wsb_begin_data(w, f) != 0 || wsb_put(w, payload, wsb_payload_size(f)) != 0)
        return -1;
    return wsb_end(w) < 0 ? -1 : 0;
}

/* Channel description for the device info packet. */
typedef struct {
    const char *name; /* NUL-terminated, at most 255 bytes; NULL = "" */
    const char *unit;
} wsb_channel;

/* The device info packet: sent at boot and on the `info` command. */
typedef struct {
    uint32_t rate;
    uint8_t channels;
    uint8_t sample_type;
    uint16_t frame_samples; /* sample instants per data frame */
    const char *name;       /* device name, at most 255 bytes; NULL = "" */
    const char *firmware;   /* firmware version, at most 255 bytes */
    uint8_t n_channel_info; /* entries in channel_info, <= channels */
    const wsb_channel *channel_info;
} wsb_info;

static inline size_t wsb__strlen(const char *s) { return s ? strlen(s) : 0; }

static inline int wsb__put_str8(wsb_writer *w, const char *s)
{
    size_t n = wsb__strlen(s);
    if (wsb_put_u8(w, (uint8_t)n) != 0)
        return -1;
    return n ? wsb_put(w, s, n) : 0;
}

/* wsb_write_info writes a device info packet. */
static inline int wsb_write_info(wsb_writer *w, const wsb_info *in)
{
    size_t body = 8 + 1 + wsb__strlen(in->name) + 1 + wsb__strlen(in->firmware) + 1;
    uint8_t i;
    if (in->n_channel_info > in->channels || wsb__strlen(in->name) > 255 ||
        wsb__strlen(in->firmware) > 255 || (in->n_channel_info && !in->channel_info))
        return wsb__fail(w);
    for (i = 0; i < in->n_channel_info; i++) {
        size_t nn = wsb__strlen(in->channel_info[i].name), nu = wsb__strlen(in->channel_info[i].unit);
        if (nn > 255 || nu > 255)
            return wsb__fail(w);
        body += 2 + nn + nu;
    }
    if (wsb_begin(w, WSB_TYPE_INFO, body) != 0 || wsb_put_u32(w, in->rate) != 0 ||
        wsb_put_u8(w, in->channels) != 0 || wsb_put_u8(w, in->sample_type) != 0 ||
        wsb_put_u16(w, in->frame_samples) != 0 || wsb__put_str8(w, in->name) != 0 ||
        wsb__put_str8(w, in->firmware) != 0 || wsb_put_u8(w, in->n_channel_info) != 0)
        return -1;
    for (i = 0; i < in->n_channel_info; i++)
        if (wsb__put_str8(w, in->channel_info[i].name) != 0 ||
            wsb__put_str8(w, in->channel_info[i].unit) != 0)
            return -1;
    return wsb_end(w) < 0 ? -1 : 0;
}

/* wsb_write_log writes a device log packet carrying n bytes of text. */
static inline int wsb_write_log(wsb_writer *w, const void *text, size_t n)
{
    if (wsb_begin(w, WSB_TYPE_LOG, n) != 0 || (n && wsb_put(w, text, n) != 0))
        return -1;
    return wsb_end(w) < 0 ? -1 : 0;
}

/* wsb_write_reply writes a command reply: status WSB_REPLY_OK or
 * WSB_REPLY_ERROR and n bytes of text. */
static inline int wsb_write_reply(wsb_writer *w, uint8_t status, const void *text, size_t n)
{
    if (wsb_begin(w, WSB_TYPE_REPLY, 1 + n) != 0 || wsb_put_u8(w, status) != 0 ||
        (n && wsb_put(w, text, n) != 0))
        return -1;
    return wsb_end(w) < 0 ? -1 : 0;
}

/* One-shot forms: encode one packet into out (plain if cobs = 0, serial form
 * if cobs = 1) and return its length, or -1. */
static inline int32_t wsb__done(const wsb_writer *w, int rc)
{
    return rc == 0 ? (int32_t)w->len : -1;
}

static inline int32_t wsb_encode_data(uint8_t *out, size_t cap, int cobs, const wsb_frame *f,
                                      const void *payload)
{
    wsb_writer w;
    wsb_init(&w, out, cap, cobs);
    return wsb__done(&w, wsb_write_data(&w, f, payload));
}

static inline int32_t wsb_encode_info(uint8_t *out, size_t cap, int cobs, const wsb_info *in)
{
    wsb_writer w;
    wsb_init(&w, out, cap, cobs);
    return wsb__done(&w, wsb_write_info(&w, in));
}

static inline int32_t wsb_encode_log(uint8_t *out, size_t cap, int cobs, const void *text, size_t n)
{
    wsb_writer w;
    wsb_init(&w, out, cap, cobs);
    return wsb__done(&w, wsb_write_log(&w, text, n));
}

static inline int32_t wsb_encode_reply(uint8_t *out, size_t cap, int cobs, uint8_t status,
                                       const void *text, size_t n)
{
    wsb_writer w;
    wsb_init(&w, out, cap, cobs);
    return wsb__done(&w, wsb_write_reply(&w, status, text, n));
}

/* wsb_cobs_encode writes the COBS encoding of src[0..n) (no delimiter) to
 * out and returns its length (at most WSB_COBS_MAX(n)), or -1. */
static inline int32_t wsb_cobs_encode(uint8_t *out, size_t cap, const void *src, size_t n)
{
    const uint8_t *p = (const uint8_t *)src;
    wsb_writer w;
    wsb_init(&w, out, cap, 1);
    wsb__open_block(&w);
    wsb__bytes(&w, p, n, 0);
    if (w.state == WSB__FAILED)
        return -1;
    w.out[w.code_at] = w.code;
    return (int32_t)w.len;
}

#ifdef __cplusplus
}
#endif

#endif /* WSBRIDGE_FRAME_H */
