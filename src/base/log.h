/*
 * log — one logfmt line per event on stderr.
 *
 *   ts=2026-11-21T23:59:59.123Z level=info msg=listening port=8443
 *
 * The event name goes in msg; the caller adds key=value pairs with a printf
 * format, quoting values that may contain spaces. At info level nothing personal is logged: addresses, names
 * and message bodies belong to debug.
 */
#ifndef TINCAN_LOG_H
#define TINCAN_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level that is written (default LOG_INFO). */
void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error"; 0 or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
/* True when a line at this level would be written. */
int log_enabled(enum log_level level);
/* Writes one line: ts, level, msg=event, then the formatted pairs (may be NULL). */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) do { if (log_enabled(LOG_DEBUG)) log_event(LOG_DEBUG, ev, __VA_ARGS__); } while (0)
#define log_info(ev, ...) log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

#endif
