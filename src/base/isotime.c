/*
 * isotime — ISO-8601 UTC timestamps (see isotime.h).
 *
 * The calendar arithmetic is Howard Hinnant's days_from_civil and
 * civil_from_days: exact for the proleptic Gregorian calendar, no tables,
 * no time zone database, no locale.
 */
#include "isotime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_DAY 86400000LL
#define MIN_MS (-62167219200000LL)             /* 0000-01-01T00:00:00.000Z */
#define MAX_MS (253402300799999LL)             /* 9999-12-31T23:59:59.999Z */

int64_t isotime_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Reads exactly n digits at *p (advancing it); -1 if they are not there. */
static int digits(const char **p, const char *end, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static int expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return -1;
    (*p)++;
    return 0;
}

/* Seconds and fraction: ":SS[.f+]" (optional as a whole). Returns the
 * milliseconds, or -1. */
static int64_t parse_seconds(const char **p, const char *end)
{
    if (*p >= end || **p != ':')
        return 0;
    (*p)++;
    int sec = digits(p, end, 2);
    if (sec < 0 || sec > 59)
        return -1;
    int64_t ms = (int64_t)sec * 1000;
    if (*p < end && (**p == '.' || **p == ',')) {
        (*p)++;
        int n = 0, scale = 100;
        while (*p < end && **p >= '0' && **p <= '9' && n < 9) {
            ms += (**p - '0') * scale;
            scale /= 10;
            (*p)++;
            n++;
        }
        if (n == 0)
            return -1;
    }
    return ms;
}

/* Zone: "", "Z", "±HH:MM" or "±HHMM". Returns 0 and the offset in minutes. */
static int parse_zone(const char **p, const char *end, int *minutes)
{
    *minutes = 0;
    if (*p == end)
        return 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    int hh = digits(p, end, 2);
    if (*p < end && **p == ':')
        (*p)++;
    int mm = digits(p, end, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return -1;
    *minutes = sign * (hh * 60 + mm);
    return 0;
}

int isotime_parse(const char *s, size_t len, int64_t *unix_ms)
{
    const char *p = s, *end = s + len;
    int y = digits(&p, end, 4);
    if (y < 0 || expect(&p, end, '-') < 0)
        return -1;
    int mo = digits(&p, end, 2);
    if (mo < 1 || mo > 12 || expect(&p, end, '-') < 0)
        return -1;
    int d = digits(&p, end, 2);
    if (d < 1 || d > days_in_month(y, mo))
        return -1;
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    int hh = digits(&p, end, 2);
    if (hh < 0 || hh > 23 || expect(&p, end, ':') < 0)
        return -1;
    int mi = digits(&p, end, 2);
    if (mi < 0 || mi > 59)
        return -1;
    int64_t ms = parse_seconds(&p, end);
    int zone;
    if (ms < 0 || parse_zone(&p, end, &zone) < 0 || p != end)
        return -1;
    int64_t t = days_from_civil(y, mo, d) * MS_PER_DAY + ((int64_t)hh * 3600 + (int64_t)mi * 60) * 1000 + ms -
                (int64_t)zone * 60000;
    if (t < MIN_MS || t > MAX_MS)
        return -1;
    *unix_ms = t;
    return 0;
}

int isotime_format(int64_t unix_ms, char out[ISOTIME_LEN + 1])
{
    if (unix_ms < MIN_MS || unix_ms > MAX_MS)
        return -1;
    int64_t days = unix_ms >= 0 ? unix_ms / MS_PER_DAY : -((-unix_ms + MS_PER_DAY - 1) / MS_PER_DAY);
    int64_t rem = unix_ms - days * MS_PER_DAY;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[64]; /* the compiler cannot see that every field fits its width */
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
    memcpy(out, tmp, ISOTIME_LEN + 1);
    return 0;
}

int isotime_normalize(const char *s, size_t len, char out[ISOTIME_LEN + 1])
{
    int64_t ms;
    if (isotime_parse(s, len, &ms) < 0)
        return -1;
    return isotime_format(ms, out);
}
