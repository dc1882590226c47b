/*  main.c - zchat-broker: parse the settings, serve until SIGTERM/SIGINT. */
#include <signal.h>
#include "blog.h"
#include "config.h"
#include "server.h"
#include <czmq.h>

static volatile int s_stop;

static void
s_on_signal (int signal)
{
    (void) signal;
    s_stop = 1;
}

int
main (int argc, char **argv)
{
    static config_t config;
    int rc = config_parse (&config, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
    blog_set_identity (config.id);
    server_t *server = server_new (&config);
    if (!server)
        return 1;
    rc = server_run (server, &s_stop);
    server_destroy (&server);
    blog ("stopped", NULL);
    return rc == 0 ? 0 : 1;
}
