/*  crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).

    Invariant: every path (hardware or table) computes the same function, so a file
    written on one machine verifies on any other. The SSE4.2 instruction is used only
    after a runtime CPU check; otherwise slicing-by-8 tables do eight bytes a step.
    Replaying a large log is CRC-bound, which is why both fast paths exist. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define CRC32C_HAVE_SSE42 1
#endif

#define CRC32C_POLY 0x82F63B78u
/* The hardware path runs three independent lanes of LANE bytes, because the
   instruction's latency is three times its throughput; lanes are joined with
   s_shift, a table for "append LANE zero bytes" (CRC is linear in its register). */
#define LANE 256

static uint32_t s_table [8][256];
static uint32_t s_shift [4][256];
static int s_use_hw;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static uint32_t s_crc_sw (uint32_t crc, const uint8_t *p, size_t len);
static void s_init_shift (void);

static void
s_init (void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ CRC32C_POLY : crc >> 1;
        s_table [0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            s_table [k][n] = (s_table [k - 1][n] >> 8) ^ s_table [0][s_table [k - 1][n] & 0xff];
    s_init_shift ();
#ifdef CRC32C_HAVE_SSE42
    __builtin_cpu_init ();
    s_use_hw = __builtin_cpu_supports ("sse4.2") ? 1 : 0;
#endif
}

/* Works on the inverted register; callers invert on entry and exit. */
static uint32_t
s_crc_sw (uint32_t crc, const uint8_t *p, size_t len)
{
    while (len && ((uintptr_t) p & 7)) {
        crc = (crc >> 8) ^ s_table [0][(crc ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy (&lo, p, 4);
        memcpy (&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32 (lo);
        hi = __builtin_bswap32 (hi);
#endif
        lo ^= crc;
        crc = s_table [7][lo & 0xff] ^ s_table [6][(lo >> 8) & 0xff]
              ^ s_table [5][(lo >> 16) & 0xff] ^ s_table [4][lo >> 24] ^ s_table [3][hi & 0xff]
              ^ s_table [2][(hi >> 8) & 0xff] ^ s_table [1][(hi >> 16) & 0xff]
              ^ s_table [0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ s_table [0][(crc ^ *p++) & 0xff];
    return crc;
}

/* s_shift[k][v] = register v << 8k advanced over LANE zero bytes. */
static void
s_init_shift (void)
{
    static const uint8_t zeros [LANE];
    uint32_t basis [32];
    for (int bit = 0; bit < 32; bit++)
        basis [bit] = s_crc_sw (1u << bit, zeros, LANE);
    for (int k = 0; k < 4; k++)
        for (uint32_t v = 0; v < 256; v++) {
            uint32_t r = 0;
            for (int j = 0; j < 8; j++)
                if (v & (1u << j))
                    r ^= basis [8 * k + j];
            s_shift [k][v] = r;
        }
}

static uint32_t
s_shift_lane (uint32_t crc)
{
    return s_shift [0][crc & 0xff] ^ s_shift [1][(crc >> 8) & 0xff]
           ^ s_shift [2][(crc >> 16) & 0xff] ^ s_shift [3][crc >> 24];
}

#ifdef CRC32C_HAVE_SSE42
__attribute__ ((target ("sse4.2"))) static uint32_t
s_crc_hw (uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t crc64 = crc;
    while (len && ((uintptr_t) p & 7)) {
        crc64 = _mm_crc32_u8 ((uint32_t) crc64, *p++);
        len--;
    }
    while (len >= 3 * LANE) {
        uint64_t a = crc64, b = 0, c = 0;
        for (size_t i = 0; i < LANE; i += 8) {
            uint64_t wa, wb, wc;
            memcpy (&wa, p + i, 8);
            memcpy (&wb, p + LANE + i, 8);
            memcpy (&wc, p + 2 * LANE + i, 8);
            a = _mm_crc32_u64 (a, wa);
            b = _mm_crc32_u64 (b, wb);
            c = _mm_crc32_u64 (c, wc);
        }
        crc64 = s_shift_lane (s_shift_lane ((uint32_t) a) ^ (uint32_t) b) ^ (uint32_t) c;
        p += 3 * LANE;
        len -= 3 * LANE;
    }
    while (len >= 8) {
        uint64_t word;
        memcpy (&word, p, 8);
        crc64 = _mm_crc32_u64 (crc64, word);
        p += 8;
        len -= 8;
    }
    while (len--)
        crc64 = _mm_crc32_u8 ((uint32_t) crc64, *p++);
    return (uint32_t) crc64;
}
#endif

uint32_t
zc_crc32c (uint32_t crc, const void *data, size_t len)
{
    pthread_once (&s_once, s_init);
    const uint8_t *p = data;
    crc = ~crc;
    if (len == 0)
        return ~crc;
#ifdef CRC32C_HAVE_SSE42
    if (s_use_hw)
        return ~s_crc_hw (crc, p, len);
#endif
    return ~s_crc_sw (crc, p, len);
}

/* For tests: force the table path so both implementations are checked. */
uint32_t zc_crc32c_sw (uint32_t crc, const void *data, size_t len);

uint32_t
zc_crc32c_sw (uint32_t crc, const void *data, size_t len)
{
    pthread_once (&s_once, s_init);
    return ~s_crc_sw (~crc, data, len);
}
