/*
 * check_config — `tincan check-config [options]`: reads the settings from
 * every source exactly as the server does (confload), checks them without
 * binding any port (option rules, certificate and key readable and
 * matching, data directory writable, web root present, relay ports apart
 * from the main port), and prints the effective settings one per line as
 * `name = value (source)`, secrets masked.
 */
#ifndef TINCAN_CHECK_CONFIG_H
#define TINCAN_CHECK_CONFIG_H

/* Runs the subcommand; argv[0] is "check-config", the rest are options.
 * Returns the exit code: 0 if the settings are valid, 2 if not (each
 * problem on stderr, naming its option). */
int check_config_main(int argc, char **argv);

#endif
