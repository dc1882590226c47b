/*  bench_watch.c - what /proc says about a process (--watch-pids), and the bench's own
    file-descriptor limit.

    CPU comes from /proc/PID/stat (utime + stime, in clock ticks: 10 ms resolution, so a
    window of a few seconds is needed for a figure worth quoting); RSS from the VmRSS
    line of /proc/PID/status. A process that is gone reads as 0. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The first cap - 1 bytes of /proc/PID/FILE, NUL-terminated; false if unreadable. */
static bool
s_proc_read (int pid, const char *file, char *buf, size_t cap)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/%s", pid, file);
    FILE *f = fopen (path, "r");
    if (!f)
        return false;
    size_t len = fread (buf, 1, cap - 1, f);
    fclose (f);
    buf [len] = '\0';
    return true;
}

uint64_t
bench_rss_kib (int pid)
{
    char buf [4096];
    unsigned long long kib = 0;
    const char *line = s_proc_read (pid, "status", buf, sizeof buf) ? strstr (buf, "VmRSS:") : NULL;
    if (!line || sscanf (line, "VmRSS: %llu kB", &kib) != 1)
        return 0;
    return kib;
}

uint64_t
bench_cpu_ticks (int pid)
{
    char buf [1024];
    if (!s_proc_read (pid, "stat", buf, sizeof buf))
        return 0;
    /* comm (field 2) may hold spaces and parentheses: fields count from the last ')' */
    char *p = strrchr (buf, ')');
    if (!p)
        return 0;
    unsigned long long utime = 0, stime = 0;
    /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt
       cmajflt utime(14) stime(15) */
    if (sscanf (p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
        != 2)
        return 0;
    return utime + stime;
}

double
bench_ticks_per_s (void)
{
    long hz = sysconf (_SC_CLK_TCK);
    return hz > 0 ? (double) hz : 100.0;
}

int
bench_raise_fd_limit (uint32_t clients)
{
    struct rlimit lim;
    if (getrlimit (RLIMIT_NOFILE, &lim) != 0)
        return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit (RLIMIT_NOFILE, &lim);
        getrlimit (RLIMIT_NOFILE, &lim);
    }
    /* per client: its TCP connection and its sockets' mailboxes; plus the process's own */
    rlim_t need = (rlim_t) clients * (1 + ZCC_SOCKETS) + 64;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
        struct rlimit more = { need, need }; /* above the hard limit: root only */
        if (setrlimit (RLIMIT_NOFILE, &more) == 0)
            lim = more;
    }
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
        fprintf (stderr,
                 "zchat-bench: %u clients need about %llu file descriptors; the limit "
                 "is %llu (raise the hard limit: ulimit -Hn)\n",
                 clients, (unsigned long long) need, (unsigned long long) lim.rlim_cur);
        return -1;
    }
    return 0;
}
