/*
 * clock — monotonic and wall time in milliseconds.
 */
#ifndef TINCAN_CLOCK_H
#define TINCAN_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock (never jumps). */
uint64_t clock_mono_ms(void);
/* Seconds since the Unix epoch. */
int64_t clock_unix_s(void);

#endif
