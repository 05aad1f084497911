/*
 * confload — reads every source of settings in the order the server uses:
 * built-in defaults, the --config file, a .env file in the working
 * directory, TINCAN_* environment variables, the command line (each
 * stronger than the one before). The server (main.c) and `tincan
 * check-config` both load through here, so they can never disagree.
 */
#ifndef TINCAN_CONFLOAD_H
#define TINCAN_CONFLOAD_H

#include <stddef.h>

#include "conf.h"

#define CONFLOAD_MAX_FILE (1u << 20) /* a config or .env file larger than this is cut */

/* Where a value came from: what conf_set_by() returns. */
enum confload_source { CONFLOAD_DEFAULT, CONFLOAD_FILE, CONFLOAD_DOTENV, CONFLOAD_ENV, CONFLOAD_ARGS };

/* Applies every source to c (which conf_init() prepared), recording in c
 * which source set each option. Returns 0, or -1 with a message naming the
 * option or file in err. Does not run conf_check(). */
int confload(struct conf *c, int argc, char **argv, char *err, size_t errlen);

#endif
