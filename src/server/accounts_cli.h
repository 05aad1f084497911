/*
 * accounts_cli — the administrator's command line for accounts:
 *
 *   tincan user add NAME [--admin]      (reads the password from stdin)
 *   tincan user disable NAME | enable NAME | admin NAME
 *   tincan invite [--admin]             (prints a one-time invite code)
 *
 * each with [--data-dir DIR] [--db FILE] to find the database. Works on
 * the database directly, so it may run while the server does (SQLite
 * serializes the writers).
 */
#ifndef TINCAN_ACCOUNTS_CLI_H
#define TINCAN_ACCOUNTS_CLI_H

/* True when argv[1] names one of these commands. */
int accounts_cli_is_command(int argc, char **argv);
/* Runs the command in argv[1..]; returns the process exit code (0 ok, 1
 * failed, 2 usage). */
int accounts_cli_main(int argc, char **argv);

#endif
