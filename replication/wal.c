/*  wal.c - the durable Raft log: segment files of log records (see wal.h, STORAGE.md).

    Invariants:
    - segs[] lists the segment files in index order; they hold consecutive indexes and
      only the last one can be empty (its name is then the next index to append).
    - Every segment but the last is fully fdatasync'd before the next one gets data,
      so only the last segment can ever have a torn tail.
    - Bytes in buf belong at the end of the last segment; segs[].bytes counts them.
    - After any failed write or sync the WAL refuses further work (failed): the state
      on disk is unknown and retrying fsync after an error can lie.
    - The last segment is preallocated (fallocate, WAL_PREALLOC_BYTES at a time) and
      written with pwrite at segs[].bytes: an fdatasync that need not also commit a
      new file size costs half as much on ext4. Its tail past the last record reads
      as zeros, which recovery takes for the end of the log. A segment is cut back to
      its records before the next one starts, so only the last one has such a tail.
    - mark_due: every byte of the last segment is covered by a completed fdatasync. The
      first append after that begins with a sync mark saying so (same write, same
      fdatasync: no extra sync), so recovery can tell durable bytes, where damage is
      corruption, from the unsynced tail, where it is a torn write (STORAGE.md §2). */
#include "wal.h"
#include "grow.h"
#include "log_record.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define WAL_BUF_BYTES       (256u * 1024)
#define WAL_SEGMENT_DEFAULT (64ull * 1024 * 1024)
#define WAL_PREALLOC_BYTES  (4ull * 1024 * 1024)
#define WAL_NAME_LEN        28 /* "log-" + 20 digits + ".seg" */
#define WAL_PATH_BYTES      (PATH_MAX + 32)

typedef struct {
    uint64_t first; /* index in the file name */
    uint64_t last;  /* last index held; first - 1 when empty */
    uint64_t bytes; /* file size including buffered bytes */
} wal_segment_t;

struct wal {
    char dir [PATH_MAX];
    int dir_fd;
    uint64_t segment_bytes;
    wal_segment_t *segs;
    size_t n_segs;
    size_t cap_segs;
    int fd;              /* last segment; -1 when no segment */
    uint64_t file_bytes; /* its size on disk, preallocated zeros included */
    bool no_prealloc;    /* the file system cannot fallocate */
    uint8_t *buf;
    size_t buf_len;
    bool need_datasync;
    bool need_dirsync;
    bool mark_due;
    bool failed;
    bool repair; /* cut at damage instead of refusing to open */
    uint64_t truncated_bytes;
    char repair_note [1024]; /* what the repair cut; "" when nothing */
};

static void
s_seg_path (const wal_t *self, uint64_t first, char *path, size_t path_len)
{
    snprintf (path, path_len, "%s/log-%020" PRIu64 ".seg", self->dir, first);
}

static bool
s_is_empty (const wal_t *self)
{
    return self->n_segs == 0 || self->segs [0].last < self->segs [0].first;
}

static wal_segment_t *
s_cur (wal_t *self)
{
    return self->n_segs ? &self->segs [self->n_segs - 1] : NULL;
}

static int
s_push_segment (wal_t *self, uint64_t first, uint64_t bytes)
{
    if (self->n_segs == self->cap_segs) {
        wal_segment_t *segs = zc_grow (self->segs, &self->cap_segs, sizeof *segs, 16);
        if (!segs)
            return -1;
        self->segs = segs;
    }
    self->segs [self->n_segs++] = (wal_segment_t) { first, first - 1, bytes };
    return 0;
}

static int
s_fail (wal_t *self)
{
    self->failed = true;
    if (errno == 0)
        errno = EIO;
    return -1;
}

/* Allocate the last segment's blocks up to at least end, ahead of the writes. A
   failure is not an error here: the write that follows extends the file itself. */
static void
s_reserve (wal_t *self, uint64_t end)
{
    if (end <= self->file_bytes || self->no_prealloc)
        return;
    uint64_t target = (end + WAL_PREALLOC_BYTES - 1) / WAL_PREALLOC_BYTES * WAL_PREALLOC_BYTES;
    uint64_t limit = end > self->segment_bytes ? end : self->segment_bytes;
    if (target > limit)
        target = limit; /* the segment rolls at segment_bytes: no more is needed */
    /* fallocate, not posix_fallocate: that one falls back to writing the zeros */
    if (fallocate (self->fd, 0, (off_t) self->file_bytes, (off_t) (target - self->file_bytes)) == 0)
        self->file_bytes = target;
    else if (errno == EOPNOTSUPP || errno == ENOSYS)
        self->no_prealloc = true;
}

static void
s_wrote (wal_t *self, uint64_t end)
{
    if (end > self->file_bytes)
        self->file_bytes = end;
    self->need_datasync = true;
}

static int
s_flush (wal_t *self)
{
    if (self->buf_len == 0)
        return 0;
    uint64_t off = s_cur (self)->bytes - self->buf_len;
    s_reserve (self, off + self->buf_len);
    if (fileio_pwrite_all (self->fd, self->buf, self->buf_len, off))
        return s_fail (self);
    s_wrote (self, off + self->buf_len);
    self->buf_len = 0;
    return 0;
}

static int
s_fsync_dir (wal_t *self)
{
    if (fsync (self->dir_fd))
        return s_fail (self);
    self->need_dirsync = false;
    return 0;
}

static int
s_open_last (wal_t *self)
{
    char path [WAL_PATH_BYTES];
    s_seg_path (self, s_cur (self)->first, path, sizeof path);
    self->fd = open (path, O_WRONLY | O_CLOEXEC);
    struct stat st;
    if (self->fd < 0 || fstat (self->fd, &st))
        return s_fail (self);
    self->file_bytes = (uint64_t) st.st_size;
    return 0;
}

static void
s_close_fd (wal_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
}

/* Start a new last segment named first. The previous last segment is made durable
   first, so that only the last segment can ever hold a torn tail. */
static int
s_segment_create (wal_t *self, uint64_t first)
{
    if (self->fd >= 0) {
        if (s_flush (self))
            return -1;
        uint64_t bytes = s_cur (self)->bytes;
        if (self->file_bytes > bytes) {
            if (ftruncate (self->fd, (off_t) bytes)) /* drop the preallocated tail */
                return s_fail (self);
            self->need_datasync = true;
        }
        if (self->need_datasync && fdatasync (self->fd))
            return s_fail (self);
        self->need_datasync = false;
        s_close_fd (self);
    }
    char path [WAL_PATH_BYTES];
    s_seg_path (self, first, path, sizeof path);
    self->fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    self->file_bytes = 0;
    if (self->fd < 0 || s_push_segment (self, first, 0))
        return s_fail (self);
    self->need_dirsync = true;
    return 0;
}

/* Unlink segments from index from onwards, newest first. */
static int
s_unlink_from (wal_t *self, size_t from)
{
    while (self->n_segs > from) {
        char path [WAL_PATH_BYTES];
        s_seg_path (self, s_cur (self)->first, path, sizeof path);
        if (unlink (path) && errno != ENOENT)
            return s_fail (self);
        self->n_segs--;
    }
    return 0;
}

/* Drop every segment and make that durable. Buffered bytes are discarded. */
static int
s_drop_all (wal_t *self)
{
    self->buf_len = 0;
    self->need_datasync = false;
    s_close_fd (self);
    if (s_unlink_from (self, 0))
        return -1;
    return s_fsync_dir (self);
}

/* Byte offset just past the record of index in seg (whose bytes are all on disk). */
static int
s_offset_after (wal_t *self, const wal_segment_t *seg, uint64_t index, uint64_t *off_out)
{
    *off_out = 0;
    if (index < seg->first)
        return 0;
    char path [WAL_PATH_BYTES];
    s_seg_path (self, seg->first, path, sizeof path);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t *map = mmap (NULL, seg->bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close (fd);
    if (map == MAP_FAILED)
        return -1;
    size_t off = 0;
    int rc = 0;
    for (uint64_t i = seg->first; i <= index;) {
        raft_entry_t entry;
        size_t record_len;
        log_record_status_t st =
            log_record_decode (map + off, seg->bytes - off, &entry, &record_len);
        if ((st != LOG_RECORD_OK && st != LOG_RECORD_MARK)
            || (st == LOG_RECORD_OK && entry.index != i++)) {
            errno = EIO; /* the file changed under us */
            rc = -1;
            break;
        }
        off += record_len;
    }
    munmap (map, seg->bytes);
    *off_out = off;
    return rc;
}

/* Keep entries <= index, drop the rest (Raft conflict). Precondition: the log is not
   empty and index < last. Later segments are unlinked and the directory synced
   before the ftruncate, so a crash can never leave a truncated segment followed by
   a stale one (a gap that recovery would call corruption). */
static int
s_truncate_after (wal_t *self, uint64_t index)
{
    if (index < self->segs [0].first)
        return s_drop_all (self);
    if (s_flush (self))
        return -1;
    size_t keep = self->n_segs;
    while (keep > 1 && self->segs [keep - 1].first > index)
        keep--;
    if (keep < self->n_segs) {
        s_close_fd (self);
        self->need_datasync = false; /* older segments were synced when rolled */
        if (s_unlink_from (self, keep) || s_fsync_dir (self) || s_open_last (self))
            return -1;
        self->mark_due = true;
    }
    wal_segment_t *seg = s_cur (self);
    if (index >= seg->last)
        return 0;
    uint64_t off;
    /* Synced at once (conflicts are rare): new records then never share the file with
       a cut-off tail that a crash could bring back, with its sync marks. */
    if (s_offset_after (self, seg, index, &off) || ftruncate (self->fd, (off_t) off)
        || fdatasync (self->fd))
        return s_fail (self);
    self->file_bytes = off;
    seg->bytes = off;
    seg->last = index;
    self->need_datasync = false;
    self->mark_due = true;
    return 0;
}

/* Make room for entry at the end of the log: truncate on conflict, roll when full. */
static int
s_prepare (wal_t *self, uint64_t index)
{
    if (s_is_empty (self)) {
        if (self->n_segs && self->segs [0].first != index && s_drop_all (self))
            return -1;
    }
    else {
        uint64_t last = s_cur (self)->last;
        if (index > last + 1) {
            errno = EINVAL;
            return -1;
        }
        if (index <= last && s_truncate_after (self, index - 1))
            return -1;
    }
    wal_segment_t *cur = s_cur (self);
    if (!cur || (cur->bytes >= self->segment_bytes && cur->last >= cur->first))
        return s_segment_create (self, index);
    return 0;
}

/* The first record after a completed sync: "every byte before me is durable". A
   fresh segment needs none. */
static int
s_put_mark (wal_t *self)
{
    self->mark_due = false;
    wal_segment_t *cur = s_cur (self);
    if (cur->bytes == 0)
        return 0;
    if (self->buf_len + LOG_RECORD_MARK_MAX > WAL_BUF_BYTES && s_flush (self))
        return -1;
    size_t len = log_record_encode_mark (cur->bytes, self->buf + self->buf_len);
    self->buf_len += len;
    cur->bytes += len;
    return 0;
}

static int
s_append_one (wal_t *self, const raft_entry_t *entry)
{
    uint8_t head [LOG_RECORD_HEAD_MAX];
    size_t head_len = log_record_encode_head (entry, head);
    if (head_len == 0)
        return errno = EINVAL, -1; /* excluded by wal_append's checks */
    if (s_prepare (self, entry->index) || (self->mark_due && s_put_mark (self)))
        return -1;
    size_t total = head_len + entry->len;
    if (self->buf_len + total > WAL_BUF_BYTES && s_flush (self))
        return -1;
    if (total > WAL_BUF_BYTES) {
        /* Larger than the buffer (so the buffer is empty now): one pwritev, no copy. */
        struct iovec iov [2] = { { head, head_len }, { (void *) entry->data, entry->len } };
        uint64_t off = s_cur (self)->bytes;
        s_reserve (self, off + total);
        ssize_t n;
        do
            n = pwritev (self->fd, iov, 2, (off_t) off);
        while (n < 0 && errno == EINTR);
        if (n < 0 || (size_t) n != total)
            return s_fail (self);
        s_wrote (self, off + total);
    }
    else {
        memcpy (self->buf + self->buf_len, head, head_len);
        if (entry->len)
            memcpy (self->buf + self->buf_len + head_len, entry->data, entry->len);
        self->buf_len += total;
    }
    wal_segment_t *cur = s_cur (self);
    cur->last = entry->index;
    cur->bytes += total;
    return 0;
}

int
wal_append (wal_t *self, const raft_entry_t *entries, uint32_t n)
{
    if (!self || (n && !entries))
        return errno = EINVAL, -1;
    /* Validate the whole batch first: bad input changes nothing. */
    uint64_t last = wal_last_index (self);
    for (uint32_t i = 0; i < n; i++) {
        const raft_entry_t *e = &entries [i];
        if (e->index == 0 || e->index != entries [0].index + i || (e->len && !e->data)
            || e->len > LOG_RECORD_BODY_MAX - LOG_RECORD_PREFIX_MAX
            || (i == 0 && !s_is_empty (self) && e->index > last + 1))
            return errno = EINVAL, -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (self->failed)
            return errno = EIO, -1;
        if (s_append_one (self, &entries [i]))
            return -1;
    }
    return 0;
}

int
wal_sync (wal_t *self)
{
    if (self->failed)
        return errno = EIO, -1;
    if (s_flush (self))
        return -1;
    if (self->need_datasync) {
        if (fdatasync (self->fd))
            return s_fail (self);
        self->need_datasync = false;
    }
    if (self->need_dirsync && s_fsync_dir (self))
        return -1;
    self->mark_due = true;
    return 0;
}

int
wal_reset (wal_t *self, uint64_t next_index)
{
    if (self->failed)
        return errno = EIO, -1;
    if (next_index == 0)
        return errno = EINVAL, -1;
    if (s_drop_all (self) || s_segment_create (self, next_index))
        return -1;
    return s_fsync_dir (self);
}

/* Oldest first, with a directory sync after each unlink: a crash leaves a suffix of
   the segments, which is still a log without gaps. The last segment always stays. */
int
wal_compact (wal_t *self, uint64_t index)
{
    if (self->failed)
        return errno = EIO, -1;
    size_t removed = 0;
    int rc = 0;
    while (removed + 1 < self->n_segs && self->segs [removed].last <= index) {
        char path [WAL_PATH_BYTES];
        s_seg_path (self, self->segs [removed].first, path, sizeof path);
        if (unlink (path) && errno != ENOENT) {
            rc = s_fail (self);
            break;
        }
        removed++;
        if (fsync (self->dir_fd)) {
            rc = s_fail (self);
            break;
        }
    }
    if (removed) {
        memmove (self->segs, self->segs + removed, (self->n_segs - removed) * sizeof *self->segs);
        self->n_segs -= removed;
    }
    return rc;
}

uint64_t
wal_first_index (const wal_t *self)
{
    return s_is_empty (self) ? 0 : self->segs [0].first;
}

uint64_t
wal_last_index (const wal_t *self)
{
    return s_is_empty (self) ? 0 : self->segs [self->n_segs - 1].last;
}

uint64_t
wal_size_bytes (const wal_t *self)
{
    uint64_t total = 0;
    for (size_t i = 0; i < self->n_segs; i++)
        total += self->segs [i].bytes;
    return total;
}

uint64_t
wal_truncated_bytes (const wal_t *self)
{
    return self->truncated_bytes;
}

const char *
wal_repair_note (const wal_t *self)
{
    return self->repair_note;
}

void
wal_destroy (wal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    wal_t *self = *self_p;
    if (!self->failed)
        s_flush (self); /* not durable without wal_sync, but not lost either */
    s_close_fd (self);
    if (self->dir_fd >= 0)
        close (self->dir_fd);
    free (self->segs);
    free (self->buf);
    free (self);
    *self_p = NULL;
}

/* ---- recovery --------------------------------------------------------------- */

/* What the walk over the log found. DAMAGED: the log is wrong from byte cut_keep of
   segment cut_seg on, which a repair can cut; FAILED: an I/O error, a replay the caller
   refused, or a missing stretch that no cut of the log mends. */
typedef enum { WAL_SEG_OK, WAL_SEG_DAMAGED, WAL_SEG_FAILED } wal_seg_outcome_t;

typedef struct {
    const char *path;
    uint64_t expect; /* index the next record must carry */
    uint64_t after_index;
    wal_replay_fn *fn;
    void *arg;
    char *err;
    size_t err_len;
    bool refused;   /* the caller refused an entry */
    size_t cut_seg; /* where a DAMAGED log is wrong from */
    uint64_t cut_keep;
    uint64_t cut_size; /* that segment's file size */
} wal_replay_t;

static int
s_replay_visit (void *arg, const raft_entry_t *entry, size_t offset)
{
    wal_replay_t *ctx = arg;
    if (entry->index != ctx->expect) {
        fileio_err (ctx->err, ctx->err_len,
                    "%s: byte offset %zu: record has index %" PRIu64 ", expected %" PRIu64
                    " (log is corrupt: gap or misplaced record)",
                    ctx->path, offset, entry->index, ctx->expect);
        return -1;
    }
    ctx->expect++;
    if (entry->index > ctx->after_index && ctx->fn && ctx->fn (ctx->arg, entry)) {
        fileio_err (ctx->err, ctx->err_len,
                    "%s: byte offset %zu: replay of index %" PRIu64 " was refused by the caller",
                    ctx->path, offset, entry->index);
        ctx->refused = true;
        return -1;
    }
    return 0;
}

/* Decide what the damage found by the scan means: a torn tail to cut, or corruption. */
static bool
s_all_zero (const uint8_t *p, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        if (p [i])
            return false;
    return true;
}

static wal_seg_outcome_t
s_settle_damage (wal_t *self, int fd, const uint8_t *image, uint64_t size, bool is_last,
                 const log_record_scan_t *res, wal_replay_t *ctx)
{
    if (res->status == LOG_RECORD_OK)
        return WAL_SEG_OK;
    if (is_last && s_all_zero (image + res->valid_bytes, size - res->valid_bytes))
        return WAL_SEG_OK; /* preallocated space: the clean end of the log */
    if (!is_last || !res->torn_tail) {
        char why [96];
        if (!is_last)
            snprintf (why, sizeof why, "damage in a segment that is not the last");
        else if (res->status == LOG_RECORD_BAD_BODY)
            snprintf (why, sizeof why, "checksum matches, so not a torn write");
        else
            snprintf (why, sizeof why, "a sync mark at byte offset %zu shows it was durable",
                      res->mark_after);
        fileio_err (ctx->err, ctx->err_len, "%s: corrupt record at byte offset %zu: %s (%s)",
                    ctx->path, res->valid_bytes, log_record_status_text (res->status), why);
        return WAL_SEG_DAMAGED;
    }
    /* Torn tail: past the last sync mark, so never covered by a completed fdatasync,
       so never acknowledged. Cut it off so that appends continue cleanly. */
    if (ftruncate (fd, (off_t) res->valid_bytes) || fsync (fd)) {
        fileio_err (ctx->err, ctx->err_len, "%s: cannot truncate torn tail at byte offset %zu: %s",
                    ctx->path, res->valid_bytes, strerror (errno));
        return WAL_SEG_FAILED;
    }
    self->truncated_bytes += size - res->valid_bytes;
    return WAL_SEG_OK;
}

/* Whole segment files are read into one reused buffer: on this kind of (virtual)
   machine a large read() is several times faster than faulting in an mmap. */
typedef struct {
    uint8_t *p;
    size_t cap;
} wal_readbuf_t;

static int
s_read_segment (int fd, uint64_t size, wal_readbuf_t *rb)
{
    if (size > SIZE_MAX / 2)
        return errno = EFBIG, -1;
    if (size > rb->cap || !rb->p) {
        /* huge pages only pay off for big segments: they are zeroed on first touch */
        size_t align = size >= (2u << 20) ? 2u << 20 : 4096;
        size_t cap = ((size_t) size + align) & ~(align - 1);
        void *p = NULL;
        if (posix_memalign (&p, align, cap))
            return errno = ENOMEM, -1;
        if (align > 4096)
            madvise (p, cap, MADV_HUGEPAGE);
        free (rb->p);
        rb->p = p;
        rb->cap = cap;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread (fd, rb->p + got, (size_t) size - got, (off_t) got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return errno = n == 0 ? EIO : errno, -1;
        got += (size_t) n;
    }
    return 0;
}

/* Verify segment i, replay its entries, and cut a torn tail if it is the last. */
static wal_seg_outcome_t
s_recover_segment (wal_t *self, size_t i, wal_replay_t *ctx, wal_readbuf_t *rb)
{
    wal_segment_t *seg = &self->segs [i];
    bool is_last = i + 1 == self->n_segs;
    char path [WAL_PATH_BYTES];
    s_seg_path (self, seg->first, path, sizeof path);
    ctx->path = path;
    ctx->expect = seg->first;
    int fd = open (path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) || s_read_segment (fd, (uint64_t) st.st_size, rb)) {
        fileio_err (ctx->err, ctx->err_len, "%s: %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return WAL_SEG_FAILED;
    }
    uint64_t size = (uint64_t) st.st_size;
    log_record_scan_t res;
    log_record_scan (rb->p, size, s_replay_visit, ctx, &res);
    wal_seg_outcome_t out = ctx->refused ? WAL_SEG_FAILED
                            : res.stopped
                                ? WAL_SEG_DAMAGED
                                : s_settle_damage (self, fd, rb->p, size, is_last, &res, ctx);
    close (fd);
    seg->bytes = res.valid_bytes;
    seg->last = seg->first + res.n_records - 1;
    if (out == WAL_SEG_OK && res.n_records == 0 && !is_last) {
        fileio_err (ctx->err, ctx->err_len, "%s: segment holds no record but later segments exist",
                    path);
        out = WAL_SEG_DAMAGED;
    }
    ctx->cut_seg = i;
    ctx->cut_keep = res.valid_bytes;
    ctx->cut_size = size;
    return out;
}

static int
s_seg_compare (const void *a, const void *b)
{
    uint64_t x = ((const wal_segment_t *) a)->first, y = ((const wal_segment_t *) b)->first;
    return x < y ? -1 : x > y;
}

/* Parse "log-<20 digits>.seg"; other files in the directory are not ours. */
static bool
s_parse_name (const char *name, uint64_t *first)
{
    if (strlen (name) != WAL_NAME_LEN || strncmp (name, "log-", 4) || strcmp (name + 24, ".seg"))
        return false;
    uint64_t v = 0;
    for (int i = 4; i < 24; i++) {
        if (name [i] < '0' || name [i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t) (name [i] - '0');
    }
    *first = v;
    return true;
}

static int
s_list_segments (wal_t *self, char *err, size_t err_len)
{
    DIR *dir = opendir (self->dir);
    if (!dir) {
        fileio_err (err, err_len, "%s: %s", self->dir, strerror (errno));
        return -1;
    }
    struct dirent *ent;
    int rc = 0;
    while (rc == 0 && (ent = readdir (dir))) {
        uint64_t first;
        if (!s_parse_name (ent->d_name, &first))
            continue;
        if (first == 0) {
            fileio_err (err, err_len, "%s/%s: segment named after index 0", self->dir, ent->d_name);
            rc = -1;
        }
        else if (s_push_segment (self, first, 0)) {
            fileio_err (err, err_len, "out of memory listing %s", self->dir);
            rc = -1;
        }
    }
    closedir (dir);
    if (self->n_segs > 1)
        qsort (self->segs, self->n_segs, sizeof *self->segs, s_seg_compare);
    return rc;
}

/* What an earlier run wrote but never synced is durable from here on, so that the
   first batch of this run may begin with a sync mark. */
static int
s_sync_recovered (wal_t *self)
{
    if (fdatasync (self->fd))
        return s_fail (self);
    self->mark_due = true;
    return 0;
}

/* Repair: keep segment cut_seg up to cut_keep bytes and remove every later segment
   (those first, then a directory fsync, as for a conflict), instead of refusing. The
   reason and what was cut go to the note; the entries cut were never replayed. */
static int
s_repair (wal_t *self, const wal_replay_t *ctx, char *err, size_t err_len)
{
    char reason [512] = "";
    if (err && err_len)
        snprintf (reason, sizeof reason, "%s", err);
    size_t removed = self->n_segs - ctx->cut_seg - 1;
    char path [WAL_PATH_BYTES];
    s_seg_path (self, self->segs [ctx->cut_seg].first, path, sizeof path);
    int fd = -1;
    if (s_unlink_from (self, ctx->cut_seg + 1) || (removed && s_fsync_dir (self))
        || (fd = open (path, O_WRONLY | O_CLOEXEC)) < 0 || ftruncate (fd, (off_t) ctx->cut_keep)
        || fsync (fd)) {
        fileio_err (err, err_len, "%s: repair failed: %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    close (fd);
    snprintf (self->repair_note, sizeof self->repair_note,
              "%s; that file cut there (it held %" PRIu64 " bytes, preallocated space"
              " included), %zu later segment(s) removed; the log now ends at index %" PRIu64,
              reason, ctx->cut_size, removed, wal_last_index (self));
    return 0;
}

static int
s_recover_all (wal_t *self, uint64_t after_index, wal_replay_fn *fn, void *arg, char *err,
               size_t err_len)
{
    wal_replay_t ctx = {
        .after_index = after_index, .fn = fn, .arg = arg, .err = err, .err_len = err_len
    };
    wal_readbuf_t rb = { NULL, 0 };
    wal_seg_outcome_t out = WAL_SEG_OK;
    for (size_t i = 0; i < self->n_segs && out == WAL_SEG_OK; i++) {
        wal_segment_t *seg = &self->segs [i];
        if (i > 0 && seg->first != seg [-1].last + 1) {
            fileio_err (err, err_len,
                        "%s/log-%020" PRIu64 ".seg: segment starts at index %" PRIu64
                        " but the previous one ends at %" PRIu64 " (log has a gap)",
                        self->dir, seg->first, seg->first, seg [-1].last);
            ctx.cut_seg = i - 1;
            ctx.cut_keep = ctx.cut_size = seg [-1].bytes;
            out = WAL_SEG_DAMAGED;
        }
        else if ((out = s_recover_segment (self, i, &ctx, &rb)) == WAL_SEG_OK && i == 0
                 && !s_is_empty (self) && seg->first > after_index + 1) {
            /* the snapshot is what is missing here, and entries were replayed: no cut */
            fileio_err (err, err_len,
                        "%s/log-%020" PRIu64 ".seg: log starts at index %" PRIu64
                        " but the snapshot covers only up to %" PRIu64 " (entries missing)",
                        self->dir, seg->first, seg->first, after_index);
            out = WAL_SEG_FAILED;
        }
    }
    free (rb.p);
    if (out == WAL_SEG_DAMAGED && self->repair)
        return s_repair (self, &ctx, err, err_len);
    if (out == WAL_SEG_DAMAGED && err && err_len) {
        size_t used = strlen (err); /* the words by which the broker offers --repair */
        snprintf (err + used, err_len - used, "; refusing to start");
    }
    return out == WAL_SEG_OK ? 0 : -1;
}

static wal_t *
s_open (const char *dir, uint64_t after_index, uint64_t segment_bytes, bool repair,
        wal_replay_fn *fn, void *arg, char *err, size_t err_len)
{
    if (!dir || !*dir || strlen (dir) + WAL_NAME_LEN + 2 >= PATH_MAX) {
        fileio_err (err, err_len, "bad data directory name");
        return NULL;
    }
    wal_t *self = calloc (1, sizeof *self);
    if (!self || !(self->buf = malloc (WAL_BUF_BYTES))) {
        free (self);
        fileio_err (err, err_len, "out of memory");
        return NULL;
    }
    self->fd = -1;
    self->dir_fd = -1;
    self->repair = repair;
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    self->segment_bytes = segment_bytes ? segment_bytes : WAL_SEGMENT_DEFAULT;
    if (fileio_mkdir_durable (dir, NULL)
        || (self->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fileio_err (err, err_len, "%s: %s", dir, strerror (errno));
        goto fail;
    }
    if (s_list_segments (self, err, err_len)
        || s_recover_all (self, after_index, fn, arg, err, err_len))
        goto fail;
    int rc = 0;
    if (!s_is_empty (self) && wal_last_index (self) < after_index)
        rc = wal_reset (self, after_index + 1); /* the snapshot supersedes it all */
    else if (self->n_segs)
        rc = s_open_last (self) || s_sync_recovered (self);
    if (rc) {
        fileio_err (err, err_len, "%s: %s", dir, strerror (errno));
        goto fail;
    }
    return self;
fail:
    wal_destroy (&self);
    return NULL;
}

wal_t *
wal_open (const char *dir, uint64_t after_index, uint64_t segment_bytes, wal_replay_fn *fn,
          void *arg, char *err, size_t err_len)
{
    return s_open (dir, after_index, segment_bytes, false, fn, arg, err, err_len);
}

wal_t *
wal_open_repair (const char *dir, uint64_t after_index, uint64_t segment_bytes, wal_replay_fn *fn,
                 void *arg, char *err, size_t err_len)
{
    return s_open (dir, after_index, segment_bytes, true, fn, arg, err, err_len);
}
