/*
 * tincan — a self-hosted calling server: the web client, signaling and
 * (later) TURN on one port.
 *
 * main reads the settings (defaults, config file, .env, environment,
 * command line — each stronger than the one before), then hands them to the
 * server and runs the event loop until a signal ends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/conf.h"
#include "base/confload.h"
#include "base/log.h"
#include "base/loop.h"
#include "server/accounts_cli.h"
#include "server/check_config.h"
#include "server/server.h"
#include "version.h"

static int load_conf(struct conf *c, int argc, char **argv)
{
    char err[512];
    if (confload(c, argc, argv, err, sizeof(err)) < 0)
        goto fail;
    if (c->help || c->version)
        return 0;
    if (conf_check(c, err, sizeof(err)) < 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "tincan: %s\n", err);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "check-config") == 0)
        return check_config_main(argc - 1, argv + 1);
    if (accounts_cli_is_command(argc, argv))
        return accounts_cli_main(argc, argv);
    struct conf conf;
    conf_init(&conf);
    int rc = 2;
    if (load_conf(&conf, argc, argv) < 0)
        goto out;
    if (conf.help) {
        static char help[8192];
        conf_help(help, sizeof(help));
        fputs(help, stdout);
        rc = 0;
        goto out;
    }
    if (conf.version) {
        printf("tincan %s\n", TINCAN_VERSION);
        rc = 0;
        goto out;
    }
    log_set_level((enum log_level)conf.log_level);
    log_info("starting", "version=%s", TINCAN_VERSION);
    struct loop *loop = loop_new();
    if (!loop) {
        log_error("loop_failed", NULL);
        rc = 1;
        goto out;
    }
    struct server srv;
    rc = 1;
    if (server_init(&srv, loop, &conf) == 0)
        rc = server_run(&srv);
    server_cleanup(&srv);
    loop_free(loop);
out:
    conf_cleanup(&conf);
    return rc;
}
