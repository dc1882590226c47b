/*  snapshot_writer.c - see snapshot_writer.h.

    The child runs in a copy of a multi-threaded process, where only this thread
    exists: it touches no ZeroMQ socket and no lock that another thread could have
    held (glibc's malloc is reset for the child by fork itself), and leaves with
    _exit so that no atexit handler or sanitizer report runs twice. */
#include "snapshot_writer.h"
#include "snapshot_file.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define SNAPSHOT_NICE 10

static void
s_child (snapshot_save_fn *save, void *save_arg, const char *dir, uint64_t index, uint64_t term,
         pid_t parent)
{
    /* a replica killed mid-snapshot takes its writer along: its successor may write
       the same file */
    if (prctl (PR_SET_PDEATHSIG, SIGKILL) || getppid () != parent)
        _exit (3);
    /* yield the cores to the event loops: a snapshot may take a while, a request not */
    if (setpriority (PRIO_PROCESS, 0, SNAPSHOT_NICE)) {
    }
    uint8_t *body;
    size_t len;
    char err [256];
    if (save (save_arg, &body, &len))
        _exit (2);
    int rc = snapshot_file_write (dir, index, term, body, len, err, sizeof err);
    if (rc) {
        ssize_t ignored = write (STDERR_FILENO, err, strlen (err));
        (void) ignored;
    }
    _exit (rc ? 1 : 0);
}

int
snapshot_writer_start (snapshot_writer_t *self, snapshot_save_fn *save, void *save_arg,
                       const char *dir, uint64_t index, uint64_t term)
{
    if (self->pid)
        return errno = EBUSY, -1;
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's allocator is not reset in a forked child: a child forked while another
       thread (the secret checkers, libzmq's) held its lock hangs for good. The caller
       snapshots inline instead; the normal build tests the fork. */
    (void) save;
    (void) save_arg;
    (void) dir;
    (void) index;
    (void) term;
    return errno = ENOTSUP, -1;
#endif
    pid_t parent = getpid ();
    int64_t before = zclock_mono ();
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0)
        s_child (save, save_arg, dir, index, term, parent);
    self->pid = pid;
    self->index = index;
    self->term = term;
    self->started_ms = before;
    self->fork_ms = zclock_mono () - before;
    return 0;
}

int
snapshot_writer_poll (snapshot_writer_t *self)
{
    if (!self->pid)
        return 0;
    int status;
    pid_t done = waitpid (self->pid, &status, WNOHANG);
    if (done == 0 || (done < 0 && errno == EINTR))
        return 0;
    self->pid = 0;
    return done > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 1 : -1;
}

void
snapshot_writer_abort (snapshot_writer_t *self)
{
    if (!self->pid)
        return;
    kill (self->pid, SIGKILL);
    while (waitpid (self->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    self->pid = 0;
}
