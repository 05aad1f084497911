/*
 * isotime — ISO-8601 timestamps in UTC, the one text form tincan stores and
 * answers with: "YYYY-MM-DDTHH:MM:SS.sssZ" (24 characters, like JavaScript's
 * Date.prototype.toISOString). In that form text order is time order, so
 * SQLite can compare timestamps as plain TEXT.
 *
 * Pure apart from isotime_now_ms(): parsing and formatting read and write
 * caller-supplied buffers only.
 */
#ifndef TINCAN_ISOTIME_H
#define TINCAN_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

#define ISOTIME_LEN 24 /* characters of the normal form, without the NUL */

/* Milliseconds since the Unix epoch on the wall clock. */
int64_t isotime_now_ms(void);

/* Parses an ISO-8601 date-time from s[0..len):
 *   YYYY-MM-DD(T| )HH:MM[:SS[.fraction]][Z | ±HH:MM | ±HHMM]
 * A missing zone means UTC. Fractions beyond milliseconds are truncated.
 * Returns 0 and the instant in *unix_ms, or -1 if s is not such a
 * timestamp (bad field, day 31 of a 30-day month, trailing bytes, a year
 * outside 0000-9999 after applying the offset). */
int isotime_parse(const char *s, size_t len, int64_t *unix_ms);

/* Writes the normal form of unix_ms (years 0000-9999) into out, which holds
 * ISOTIME_LEN + 1 bytes. Returns 0, or -1 if the year is out of range. */
int isotime_format(int64_t unix_ms, char out[ISOTIME_LEN + 1]);

/* Parses s and writes its normal form into out; 0 or -1 as above. */
int isotime_normalize(const char *s, size_t len, char out[ISOTIME_LEN + 1]);

#endif
