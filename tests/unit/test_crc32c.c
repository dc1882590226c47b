/*  test_crc32c.c - CRC-32C known answers, and the hardware and table paths agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"

uint32_t zc_crc32c_sw (uint32_t crc, const void *data, size_t len);

static void
standard_check_value (void **state)
{
    (void) state;
    assert_int_equal (zc_crc32c (0, "123456789", 9), 0xE3069283u);
    assert_int_equal (zc_crc32c_sw (0, "123456789", 9), 0xE3069283u);
}

static void
empty_input_keeps_crc (void **state)
{
    (void) state;
    assert_int_equal (zc_crc32c (0, "", 0), 0);
    assert_int_equal (zc_crc32c (0x12345678u, NULL, 0), 0x12345678u);
}

/* RFC 3720 (iSCSI) B.4 test vectors. */
static void
iscsi_vectors (void **state)
{
    (void) state;
    uint8_t buf [32];
    memset (buf, 0, sizeof buf);
    assert_int_equal (zc_crc32c (0, buf, 32), 0x8A9136AAu);
    memset (buf, 0xff, sizeof buf);
    assert_int_equal (zc_crc32c (0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf [i] = (uint8_t) i;
    assert_int_equal (zc_crc32c (0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf [i] = (uint8_t) (31 - i);
    assert_int_equal (zc_crc32c (0, buf, 32), 0x113FDB5Cu);
}

static void
extending_equals_whole (void **state)
{
    (void) state;
    const char *text = "The quick brown fox jumps over the lazy dog, twice over.";
    size_t len = strlen (text);
    uint32_t whole = zc_crc32c (0, text, len);
    for (size_t cut = 0; cut <= len; cut++)
        assert_int_equal (zc_crc32c (zc_crc32c (0, text, cut), text + cut, len - cut), whole);
}

static void
hardware_and_table_agree_at_every_alignment (void **state)
{
    (void) state;
    uint8_t *buf = malloc (4096 + 16);
    assert_non_null (buf);
    uint32_t x = 12345;
    for (size_t i = 0; i < 4096 + 16; i++) {
        x = x * 1103515245u + 12345u;
        buf [i] = (uint8_t) (x >> 16);
    }
    for (size_t align = 0; align < 8; align++)
        for (size_t len = 0; len < 300; len += 7)
            assert_int_equal (zc_crc32c (0, buf + align, len), zc_crc32c_sw (0, buf + align, len));
    /* long enough for the three-lane hardware loop, with odd tails */
    for (size_t len = 700; len <= 4096; len += 61)
        assert_int_equal (zc_crc32c (0x5a5a5a5au, buf + 1, len),
                          zc_crc32c_sw (0x5a5a5a5au, buf + 1, len));
    free (buf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (standard_check_value),
        cmocka_unit_test (empty_input_keeps_crc),
        cmocka_unit_test (iscsi_vectors),
        cmocka_unit_test (extending_equals_whole),
        cmocka_unit_test (hardware_and_table_agree_at_every_alignment),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
