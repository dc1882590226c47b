/*  histogram.c - log-linear latency buckets (see histogram.h).

    Invariant: counts[] sums to total; min/max are the exact extremes of what was
    recorded (max may exceed HISTOGRAM_MAX_NS, whose values share the top bucket). */
#include "histogram.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LINEAR_LIMIT 256u /* values below this are exact */
#define SUB_BITS     7u   /* 128 sub-buckets per power of two */
#define SUB_COUNT    (1u << SUB_BITS)
#define LOW_EXP      8u  /* log2 (LINEAR_LIMIT) */
#define TOP_EXP      36u /* 2^36 <= 100 s in ns < 2^37 */
#define BUCKETS      (LINEAR_LIMIT + (TOP_EXP - LOW_EXP + 1) * SUB_COUNT)

struct histogram {
    uint64_t total;
    uint64_t min;
    uint64_t max;
    uint64_t saturated;
    double sum; /* double: a uint64 sum of ns could overflow */
    uint64_t counts [BUCKETS];
};

histogram_t *
histogram_new (void)
{
    histogram_t *self = malloc (sizeof *self);
    if (self)
        histogram_reset (self);
    return self;
}

void
histogram_destroy (histogram_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
histogram_reset (histogram_t *self)
{
    assert (self);
    memset (self, 0, sizeof *self);
}

static uint32_t
s_index (uint64_t value)
{
    if (value < LINEAR_LIMIT)
        return (uint32_t) value;
    uint32_t exp = 63u - (uint32_t) __builtin_clzll (value);
    uint32_t sub = (uint32_t) (value >> (exp - SUB_BITS)) - SUB_COUNT;
    return LINEAR_LIMIT + (exp - LOW_EXP) * SUB_COUNT + sub;
}

/* The lowest value of a bucket and how many values it holds. */
static uint64_t
s_lower (uint32_t index, uint64_t *width)
{
    if (index < LINEAR_LIMIT) {
        *width = 1;
        return index;
    }
    uint32_t exp = LOW_EXP + (index - LINEAR_LIMIT) / SUB_COUNT;
    uint64_t sub = (index - LINEAR_LIMIT) % SUB_COUNT;
    *width = 1ull << (exp - SUB_BITS);
    return (SUB_COUNT + sub) << (exp - SUB_BITS);
}

/* The value a bucket stands for: its midpoint, within half a bucket width of any
   value in it, i.e. within 1/256 relative. */
static uint64_t
s_value (uint32_t index)
{
    uint64_t width, lower = s_lower (index, &width);
    return lower + (width - 1) / 2;
}

/* The highest value a bucket holds (HdrHistogram reports buckets by it). */
static uint64_t
s_upper (uint32_t index)
{
    uint64_t width, lower = s_lower (index, &width);
    return lower + width - 1;
}

void
histogram_record (histogram_t *self, uint64_t value_ns)
{
    assert (self);
    uint64_t tracked = value_ns;
    if (tracked > HISTOGRAM_MAX_NS) {
        tracked = HISTOGRAM_MAX_NS;
        self->saturated++;
    }
    self->counts [s_index (tracked)]++;
    if (self->total == 0 || value_ns < self->min)
        self->min = value_ns;
    if (value_ns > self->max)
        self->max = value_ns;
    self->total++;
    self->sum += (double) value_ns;
}

void
histogram_merge (histogram_t *self, const histogram_t *other)
{
    assert (self);
    assert (other);
    if (other->total == 0)
        return;
    for (uint32_t i = 0; i < BUCKETS; i++)
        self->counts [i] += other->counts [i];
    if (self->total == 0 || other->min < self->min)
        self->min = other->min;
    if (other->max > self->max)
        self->max = other->max;
    self->total += other->total;
    self->saturated += other->saturated;
    self->sum += other->sum;
}

uint64_t
histogram_count (const histogram_t *self)
{
    return self->total;
}
uint64_t
histogram_min (const histogram_t *self)
{
    return self->min;
}
uint64_t
histogram_max (const histogram_t *self)
{
    return self->max;
}
uint64_t
histogram_saturated (const histogram_t *self)
{
    return self->saturated;
}

double
histogram_mean (const histogram_t *self)
{
    return self->total ? self->sum / (double) self->total : 0.0;
}

uint64_t
histogram_percentile (const histogram_t *self, double pct)
{
    assert (self);
    if (self->total == 0)
        return 0;
    if (pct >= 100.0)
        return self->max;
    if (pct < 0.0)
        pct = 0.0;
    uint64_t rank = (uint64_t) ceil (pct / 100.0 * (double) self->total);
    if (rank < 1)
        rank = 1;
    if (rank > self->total)
        rank = self->total;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < BUCKETS; i++) {
        seen += self->counts [i];
        if (seen >= rank) {
            uint64_t value = s_value (i);
            if (value < self->min)
                value = self->min;
            if (value > self->max)
                value = self->max;
            return value;
        }
    }
    return self->max;
}

static double
s_stddev (const histogram_t *self)
{
    if (self->total == 0)
        return 0.0;
    double mean = histogram_mean (self), sum = 0.0;
    for (uint32_t i = 0; i < BUCKETS; i++)
        if (self->counts [i]) {
            double d = (double) s_value (i) - mean;
            sum += d * d * (double) self->counts [i];
        }
    return sqrt (sum / (double) self->total);
}

/* HdrHistogram's percentile iteration: the step halves each time the remaining
   distance to 100% halves, with 5 reports per half. */
static double
s_next_level (double level)
{
    double half = pow (2.0, floor (log2 (100.0 / (100.0 - level)) + 1.0));
    return level + 100.0 / (5.0 * half);
}

int
histogram_write_hgrm (const histogram_t *self, FILE *out, double unit_ns)
{
    assert (self && out && unit_ns > 0);
    uint64_t hi = self->max;
    fprintf (out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
             "1/(1-Percentile)");
    uint64_t seen = 0;
    double level = 0.0;
    for (uint32_t i = 0; i < BUCKETS && seen < self->total; i++) {
        if (!self->counts [i])
            continue;
        seen += self->counts [i];
        if (seen == self->total)
            break; /* the last bucket is the 100% line below */
        double reached = 100.0 * (double) seen / (double) self->total;
        uint64_t value = s_upper (i) < hi ? s_upper (i) : hi;
        for (int k = 0; k < 1000 && level <= reached; k++) {
            fprintf (out, "%12.3f %2.12f %10llu %14.2f\n", (double) value / unit_ns, level / 100.0,
                     (unsigned long long) seen, 1.0 / (1.0 - level / 100.0));
            level = s_next_level (level);
        }
    }
    if (self->total)
        fprintf (out, "%12.3f %2.12f %10llu\n", (double) hi / unit_ns, 1.0,
                 (unsigned long long) self->total);
    fprintf (out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", histogram_mean (self) / unit_ns,
             s_stddev (self) / unit_ns);
    fprintf (out, "#[Max     = %12.3f, Total count    = %12llu]\n", (double) hi / unit_ns,
             (unsigned long long) self->total);
    fprintf (out, "#[Buckets = %12u, SubBuckets     = %12u]\n", TOP_EXP - LOW_EXP + 2, SUB_COUNT);
    return ferror (out) ? -1 : 0;
}
