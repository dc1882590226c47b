/*  test_histogram.c - the latency histogram reports what was recorded to within 1%. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>

#include "histogram.h"

#define MS 1000000ull
#define US 1000ull

static void
assert_within_1pct (uint64_t got, uint64_t want)
{
    double diff = fabs ((double) got - (double) want);
    if (diff > 0.01 * (double) want)
        fail_msg ("got %llu, want %llu (+-1%%)", (unsigned long long) got,
                  (unsigned long long) want);
}

static void
empty_histogram_reports_zero (void **state)
{
    (void) state;
    histogram_t *h = histogram_new ();
    assert_non_null (h);
    assert_int_equal (histogram_count (h), 0);
    assert_int_equal (histogram_min (h), 0);
    assert_int_equal (histogram_max (h), 0);
    assert_int_equal (histogram_percentile (h, 50), 0);
    assert_true (histogram_mean (h) == 0.0);
    histogram_destroy (&h);
    assert_null (h);
    histogram_destroy (&h); /* NULL is accepted */
}

static void
uniform_1_to_100_ms_has_exact_stats_and_percentiles (void **state)
{
    (void) state;
    histogram_t *h = histogram_new ();
    for (uint64_t v = 1; v <= 100; v++)
        histogram_record (h, v * MS);
    assert_int_equal (histogram_count (h), 100);
    assert_int_equal (histogram_min (h), 1 * MS);
    assert_int_equal (histogram_max (h), 100 * MS);
    assert_true (fabs (histogram_mean (h) - 50.5 * MS) < 1.0);
    assert_within_1pct (histogram_percentile (h, 50), 50 * MS);
    assert_within_1pct (histogram_percentile (h, 90), 90 * MS);
    assert_within_1pct (histogram_percentile (h, 99), 99 * MS);
    assert_within_1pct (histogram_percentile (h, 99.9), 100 * MS);
    assert_int_equal (histogram_percentile (h, 100), 100 * MS);
    assert_within_1pct (histogram_percentile (h, 0), 1 * MS);
    histogram_destroy (&h);
}

static void
bimodal_tail_is_seen_only_above_its_share (void **state)
{
    (void) state;
    histogram_t *h = histogram_new ();
    for (int i = 0; i < 990; i++)
        histogram_record (h, 300 * US);
    for (int i = 0; i < 10; i++)
        histogram_record (h, 40 * MS);
    assert_within_1pct (histogram_percentile (h, 50), 300 * US);
    assert_within_1pct (histogram_percentile (h, 99), 300 * US);
    assert_within_1pct (histogram_percentile (h, 99.1), 40 * MS);
    assert_within_1pct (histogram_percentile (h, 99.9), 40 * MS);
    histogram_destroy (&h);
}

/* Every recorded value, asked for by its own rank, comes back within 1% - across
   the whole range from 1 us to 100 s, including the exact small values. */
static void
every_value_is_reported_within_1pct_of_itself (void **state)
{
    (void) state;
    enum { N = 20000 };
    uint64_t *values = malloc (N * sizeof *values);
    assert_non_null (values);
    srand (42);
    double lo = log (1.0 * US), hi = log (100e9);
    for (int i = 0; i < N; i++) {
        double t = lo + (hi - lo) * ((double) i + (double) rand () / RAND_MAX) / N;
        values [i] = (uint64_t) exp (t);
        if (i > 0 && values [i] < values [i - 1])
            values [i] = values [i - 1];
    }
    histogram_t *h = histogram_new ();
    for (int i = N - 1; i >= 0; i--) /* order must not matter */
        histogram_record (h, values [i]);
    for (int k = 1; k <= N; k++) {
        double pct = 100.0 * ((double) k - 0.5) / N;
        assert_within_1pct (histogram_percentile (h, pct), values [k - 1]);
    }
    assert_int_equal (histogram_saturated (h), 0);
    histogram_destroy (&h);
    free (values);
}

static void
small_values_are_exact (void **state)
{
    (void) state;
    histogram_t *h = histogram_new ();
    for (uint64_t v = 0; v < 256; v++)
        histogram_record (h, v);
    for (uint64_t v = 0; v < 256; v++)
        assert_int_equal (histogram_percentile (h, 100.0 * ((double) v + 0.5) / 256), v);
    histogram_destroy (&h);
}

static void
merge_equals_recording_everything_in_one (void **state)
{
    (void) state;
    histogram_t *a = histogram_new ();
    histogram_t *b = histogram_new ();
    histogram_t *all = histogram_new ();
    for (uint64_t i = 1; i <= 5000; i++) {
        uint64_t v = (i * 7919 % 100000) * US + 17;
        histogram_record (i % 3 ? a : b, v);
        histogram_record (all, v);
    }
    histogram_merge (a, b);
    assert_int_equal (histogram_count (a), histogram_count (all));
    assert_int_equal (histogram_min (a), histogram_min (all));
    assert_int_equal (histogram_max (a), histogram_max (all));
    assert_true (fabs (histogram_mean (a) - histogram_mean (all)) < 1e-6 * histogram_mean (all));
    double pcts [] = { 0, 10, 50, 90, 99, 99.9, 100 };
    for (size_t i = 0; i < sizeof pcts / sizeof pcts [0]; i++)
        assert_int_equal (histogram_percentile (a, pcts [i]), histogram_percentile (all, pcts [i]));
    assert_int_equal (histogram_count (b), 5000 / 3); /* the source is unchanged */

    histogram_t *empty = histogram_new ();
    histogram_merge (empty, a); /* into an empty one */
    assert_int_equal (histogram_min (empty), histogram_min (all));
    histogram_destroy (&empty);
    histogram_destroy (&a);
    histogram_destroy (&b);
    histogram_destroy (&all);
}

static void
values_above_100_s_saturate_but_keep_exact_max (void **state)
{
    (void) state;
    histogram_t *h = histogram_new ();
    histogram_record (h, 1 * MS);
    histogram_record (h, 200000 * MS);
    histogram_record (h, UINT64_MAX);
    assert_int_equal (histogram_count (h), 3);
    assert_int_equal (histogram_saturated (h), 2);
    assert_int_equal (histogram_max (h), UINT64_MAX);
    assert_within_1pct (histogram_percentile (h, 50), 100000 * MS);
    assert_int_equal (histogram_percentile (h, 100), UINT64_MAX);
    histogram_reset (h);
    assert_int_equal (histogram_count (h), 0);
    assert_int_equal (histogram_percentile (h, 50), 0);
    histogram_destroy (&h);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (empty_histogram_reports_zero),
        cmocka_unit_test (uniform_1_to_100_ms_has_exact_stats_and_percentiles),
        cmocka_unit_test (bimodal_tail_is_seen_only_above_its_share),
        cmocka_unit_test (every_value_is_reported_within_1pct_of_itself),
        cmocka_unit_test (small_values_are_exact),
        cmocka_unit_test (merge_equals_recording_everything_in_one),
        cmocka_unit_test (values_above_100_s_saturate_but_keep_exact_max),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
