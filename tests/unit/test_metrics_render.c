/*  test_metrics.c - the Prometheus rendering: histogram buckets are cumulative with
    +Inf equal to the count, only codes that happened are listed, the leader alone
    shows peer lag, and a buffer too small renders nothing rather than half a page. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "metrics.h"

static char s_page [65536];

static void
histogram_buckets_are_cumulative (void **state)
{
    (void) state;
    metrics_sample_t sample;
    memset (&sample, 0, sizeof sample);
    metrics_observe (&sample.fsync, 0.00005); /* first bucket */
    metrics_observe (&sample.fsync, 0.0003);  /* le 0.0005 */
    metrics_observe (&sample.fsync, 7.0);     /* only +Inf */
    assert_true (metrics_render (&sample, s_page, sizeof s_page) > 0);
    assert_non_null (strstr (s_page, "zchat_fsync_seconds_bucket{le=\"0.0001\"} 1\n"));
    assert_non_null (strstr (s_page, "zchat_fsync_seconds_bucket{le=\"0.00025\"} 1\n"));
    assert_non_null (strstr (s_page, "zchat_fsync_seconds_bucket{le=\"0.0005\"} 2\n"));
    assert_non_null (strstr (s_page, "zchat_fsync_seconds_bucket{le=\"1\"} 2\n"));
    assert_non_null (strstr (s_page, "zchat_fsync_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null (strstr (s_page, "zchat_fsync_seconds_count 3\n"));
}

static void
refusals_list_only_codes_seen_and_lag_only_on_the_leader (void **state)
{
    (void) state;
    metrics_sample_t sample;
    memset (&sample, 0, sizeof sample);
    sample.id = 1;
    sample.n = 3;
    for (uint32_t i = 0; i < 3; i++)
        sample.peers [i] = (metrics_peer_t) { i + 1, true, 10, 2, i != 2 }; /* 3: a learner */
    sample.refused [ZC_ERR_NO_SUCH_USER] = 4;
    sample.role = RAFT_FOLLOWER;
    assert_true (metrics_render (&sample, s_page, sizeof s_page) > 0);
    assert_non_null (strstr (s_page, "zchat_requests_refused_total{code=\"NO_SUCH_USER\"} 4\n"));
    assert_null (strstr (s_page, "code=\"BUSY\""));
    assert_null (strstr (s_page, "zchat_peer_lag_entries{"));
    assert_non_null (strstr (s_page, "zchat_role{role=\"follower\"} 1\n"));
    assert_non_null (strstr (s_page, "zchat_peer_voter{peer=\"2\"} 1\n"));
    assert_non_null (strstr (s_page, "zchat_peer_voter{peer=\"3\"} 0\n"));
    sample.role = RAFT_LEADER;
    assert_true (metrics_render (&sample, s_page, sizeof s_page) > 0);
    assert_non_null (strstr (s_page, "zchat_peer_lag_entries{peer=\"2\"} 2\n"));
    assert_null (strstr (s_page, "zchat_peer_lag_entries{peer=\"1\"}")); /* not itself */
}

static void
a_small_buffer_renders_nothing (void **state)
{
    (void) state;
    metrics_sample_t sample;
    memset (&sample, 0, sizeof sample);
    char small [200];
    assert_int_equal (metrics_render (&sample, small, sizeof small), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (histogram_buckets_are_cumulative),
        cmocka_unit_test (refusals_list_only_codes_seen_and_lag_only_on_the_leader),
        cmocka_unit_test (a_small_buffer_renders_nothing),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
