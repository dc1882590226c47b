/*  histogram.h - a fixed-size latency histogram with about 0.4% relative precision.

    The idea of HdrHistogram, written for zchat: values (nanoseconds) below 256 get one
    bucket each; every power of two above that is split into 128 linear sub-buckets, so
    a bucket is never wider than 1/128 of its lower bound. Values up to HISTOGRAM_MAX_NS
    (100 s) are tracked; larger ones are counted in the top bucket (max stays exact).
    Memory is fixed at creation (about 32 KiB), record is O(1) with no allocation, and
    a percentile is reported as its bucket's midpoint clamped to [min, max], which is
    within 1/256 of every value in that bucket. Not thread-safe: keep one per thread
    and merge. */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include <stdint.h>
#include <stdio.h>

#define HISTOGRAM_MAX_NS 100000000000ULL /* 100 s */

typedef struct histogram histogram_t;

/* Returns a new empty histogram, owned by the caller; NULL if out of memory. */
histogram_t *histogram_new (void);
/* Frees the histogram and NULLs the pointer; accepts NULL. */
void histogram_destroy (histogram_t **self_p);

void histogram_reset (histogram_t *self);
/* Record one value in nanoseconds. */
void histogram_record (histogram_t *self, uint64_t value_ns);
/* Add every value recorded in other to self; other is unchanged. */
void histogram_merge (histogram_t *self, const histogram_t *other);

uint64_t histogram_count (const histogram_t *self);
/* 0 when empty. */
uint64_t histogram_min (const histogram_t *self);
uint64_t histogram_max (const histogram_t *self);
double histogram_mean (const histogram_t *self);
/* Values recorded above HISTOGRAM_MAX_NS (counted in the top bucket). */
uint64_t histogram_saturated (const histogram_t *self);

/* The value at percentile pct (0..100): the smallest recorded value v such that at
   least pct% of the values are <= v, to within the bucket precision. 0 when empty;
   pct 100 is the exact max. */
uint64_t histogram_percentile (const histogram_t *self, double pct);

/* Write the distribution in HdrHistogram's percentile-distribution text format (.hgrm,
   as outputPercentileDistribution prints it: Value, Percentile, TotalCount,
   1/(1-Percentile), 5 ticks per half distance, then the #[Mean, #[Max and #[Buckets
   footer), values divided by unit_ns (1e6: milliseconds). Returns 0, or -1 on a write
   error. */
int histogram_write_hgrm (const histogram_t *self, FILE *out, double unit_ns);

#endif
