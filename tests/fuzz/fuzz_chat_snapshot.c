/*  fuzz_chat_snapshot.c - arbitrary bytes into chat_snapshot_load.
    Properties: never crashes, hangs or leaks; a rejected snapshot leaves the state empty;
    an accepted one saves to bytes that load again into the same digest. */
#include <stdlib.h>
#include "chat.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    chat_limits_t limits = { 1000, 1000, 100 };
    chat_t *chat = chat_new (&limits);
    if (chat == NULL)
        return 0;
    if (chat_snapshot_load (chat, data, size) != ZC_OK) {
        if (chat_user_count (chat) != 0 || chat_queued_count (chat) != 0)
            abort ();
    }
    else {
        uint8_t *buf;
        size_t len;
        if (chat_snapshot_save (chat, &buf, &len) != 0)
            abort ();
        chat_t *again = chat_new (&limits);
        if (again == NULL || chat_snapshot_load (again, buf, len) != ZC_OK
            || chat_digest (again) != chat_digest (chat))
            abort ();
        chat_destroy (&again);
        free (buf);
    }
    chat_destroy (&chat);
    return 0;
}
