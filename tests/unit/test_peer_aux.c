/*  test_peer_aux.c - status gossip: an older replica's frame (7 elements, no cluster id)
    still decodes; the advertised client address sits in the element that used to be
    reserved (nil without one); cluster id and incarnation follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "peer_aux.h"

/* An older replica's gossip (7 elements, before cluster ids) still decodes, as not
   knowing its cluster; the current one appends cluster id and incarnation. */
static void
gossip_of_an_older_replica_still_decodes (void **state)
{
    (void) state;
    zc_status_gossip_t g = { .id = 2,
                             .role = 3,
                             .term = 5,
                             .commit = 9,
                             .applied = 8,
                             .last_index = 10,
                             .cluster = 0x1122334455667788ull,
                             .incarnation = 7 };
    uint8_t buf [ZC_STATUS_GOSSIP_MAX];
    size_t len;
    assert_int_equal (zc_status_gossip_encode (&g, buf, sizeof buf, &len), ZC_OK);
    static const uint8_t now [] = { 0x03, 0x99, 0x02, 0x03, 0x05, 0x09, 0x08, 0x0a, 0xc0, 0xcf,
                                    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x07 };
    assert_int_equal (len, sizeof now);
    assert_memory_equal (buf, now, sizeof now);
    zc_status_gossip_t d;
    assert_int_equal (zc_status_gossip_decode (now, sizeof now, &d), ZC_OK);
    assert_true (d.cluster == g.cluster && d.incarnation == 7);
    static const uint8_t old [] = { 0x03, 0x97, 0x02, 0x03, 0x05, 0x09, 0x08, 0x0a, 0xc0 };
    memset (&d, 0x55, sizeof d);
    assert_int_equal (zc_status_gossip_decode (old, sizeof old, &d), ZC_OK);
    assert_int_equal (d.id, 2);
    assert_int_equal (d.last_index, 10);
    assert_string_equal (d.advertise, "");
    assert_true (d.cluster == 0 && d.incarnation == 0);
    uint8_t eight [sizeof now];
    memcpy (eight, now, sizeof now);
    eight [1] = 0x98; /* neither the old nor the new shape */
    assert_int_equal (zc_status_gossip_decode (eight, sizeof now - 1, &d), ZC_ERR_BAD_TYPE);
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
    assert_int_equal (buf [len - 17], 0xae); /* fixstr(14) before cluster, incarnation */
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
        cmocka_unit_test (gossip_of_an_older_replica_still_decodes),
        cmocka_unit_test (gossip_advertise_round_trips_and_is_bounded),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
