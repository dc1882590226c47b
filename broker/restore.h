/*  restore.h - `zchat-broker --restore FILE`: seed an empty data directory with a
    backup taken by `zchat admin backup` (a snapshot file: index, term, CRC32C, body).

    Every replica of the new cluster starts from the same backup: each holds the
    snapshot as its whole log, and a hard state at the backup's term, so that the
    first election of the new cluster is of a later term and its entries follow the
    snapshot's. A restarted replica with the flag still given finds its restore
    marker and starts normally; a data directory holding anything else is refused,
    never overwritten. */
#ifndef RESTORE_H
#define RESTORE_H

#include <stddef.h>
#include "config.h"

/* Returns 0 when the data directory holds the backup (just restored, or earlier),
   -1 with a reason in err (unreadable or corrupt backup, data already there). */
int restore_seed (const config_t *config, char *err, size_t err_len);

#endif
