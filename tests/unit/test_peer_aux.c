/*  test_peer_aux.c - status gossip carries a replica's advertised client address in
    the element that used to be reserved: without one the frame is byte for byte what
    older replicas send, and a frame from them (nil there) decodes with none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "peer_aux.h"

static void
gossip_without_advertise_is_the_old_frame (void **state)
{
    (void) state;
    zc_status_gossip_t g = {
        .id = 2, .role = 3, .term = 5, .commit = 9, .applied = 8, .last_index = 10
    };
    uint8_t buf [ZC_STATUS_GOSSIP_MAX];
    size_t len;
    assert_int_equal (zc_status_gossip_encode (&g, buf, sizeof buf, &len), ZC_OK);
    static const uint8_t old [] = { 0x03, 0x97, 0x02, 0x03, 0x05, 0x09, 0x08, 0x0a, 0xc0 };
    assert_int_equal (len, sizeof old);
    assert_memory_equal (buf, old, sizeof old);
    zc_status_gossip_t d;
    memset (&d, 0x55, sizeof d);
    assert_int_equal (zc_status_gossip_decode (old, sizeof old, &d), ZC_OK);
    assert_int_equal (d.id, 2);
    assert_int_equal (d.last_index, 10);
    assert_string_equal (d.advertise, "");
}

static void
gossip_advertise_round_trips_and_is_bounded (void **state)
{
    (void) state;
    zc_status_gossip_t g = { .id = 1, .role = 0, .term = 1 };
    strcpy (g.advertise, "127.0.0.1:7004");
    uint8_t buf [ZC_STATUS_GOSSIP_MAX];
    size_t len;
    assert_int_equal (zc_status_gossip_encode (&g, buf, sizeof buf, &len), ZC_OK);
    assert_int_equal (buf [len - 15], 0xae); /* fixstr(14) in the last slot */
    zc_status_gossip_t d;
    assert_int_equal (zc_status_gossip_decode (buf, len, &d), ZC_OK);
    assert_string_equal (d.advertise, "127.0.0.1:7004");
    for (size_t cut = 1; cut < len; cut++)
        assert_int_not_equal (zc_status_gossip_decode (buf, cut, &d), ZC_OK);
    memset (g.advertise, 'h', ZC_ADVERTISE_MAX); /* the longest one fits */
    g.advertise [ZC_ADVERTISE_MAX] = 0;
    assert_int_equal (zc_status_gossip_encode (&g, buf, sizeof buf, &len), ZC_OK);
    assert_int_equal (zc_status_gossip_decode (buf, len, &d), ZC_OK);
    assert_int_equal (strlen (d.advertise), ZC_ADVERTISE_MAX);
    /* a hostile frame with a longer string (or a number) there is refused */
    uint8_t big [ZC_STATUS_GOSSIP_MAX] = { 0x03, 0x97, 1, 0, 1, 0, 0, 0, 0xd9, 0xff };
    memset (big + 10, 'h', 255);
    assert_int_equal (zc_status_gossip_decode (big, 10 + 255, &d), ZC_OK); /* 255: fine */
    big [8] = 0xda;
    big [9] = 0x01;
    big [10] = 0x10; /* str16 of 272 bytes */
    memset (big + 11, 'h', 272);
    assert_int_equal (zc_status_gossip_decode (big, 11 + 272, &d), ZC_ERR_TOO_LARGE);
    uint8_t number [] = { 0x03, 0x97, 1, 0, 1, 0, 0, 0, 0x07 };
    assert_int_not_equal (zc_status_gossip_decode (number, sizeof number, &d), ZC_OK);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (gossip_without_advertise_is_the_old_frame),
        cmocka_unit_test (gossip_advertise_round_trips_and_is_bounded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
