/*
 * test_utf8 — incremental UTF-8 validation (src/base/utf8.c).
 *
 * Checks the boundaries of each sequence length, the three classes RFC 3629
 * forbids (overlong forms, surrogates, values past U+10FFFF), stray and
 * missing continuation bytes, and that feeding the same bytes in pieces —
 * as WebSocket fragments arrive — always gives the same verdict as
 * validating them whole. A small decoder written from the RFC's definition
 * serves as the reference for random inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/utf8.h"
#include "utf8_ref.h"

struct vec {
    const char *s;
    size_t len; /* 0: strlen */
    int valid;
};

static const struct vec vecs[] = {
    { "", 0, 1 },
    { "hello, world", 0, 1 },
    { "\x7f", 0, 1 },                       /* U+007F */
    { "\xc2\x80", 0, 1 },                   /* U+0080 */
    { "caf\xc3\xa9", 0, 1 },                /* é */
    { "\xdf\xbf", 0, 1 },                   /* U+07FF */
    { "\xe0\xa0\x80", 0, 1 },               /* U+0800 */
    { "\xe2\x82\xac", 0, 1 },               /* € */
    { "\xed\x9f\xbf", 0, 1 },               /* U+D7FF, last before the surrogates */
    { "\xee\x80\x80", 0, 1 },               /* U+E000, first after them */
    { "\xef\xbf\xbf", 0, 1 },               /* U+FFFF */
    { "\xf0\x90\x80\x80", 0, 1 },           /* U+10000 */
    { "\xf0\x9f\x98\x80", 0, 1 },           /* 😀 */
    { "\xf4\x8f\xbf\xbf", 0, 1 },           /* U+10FFFF */
    { "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 0, 1 },
    { "\x00", 1, 1 },                       /* NUL is a character */

    { "\xc0\x80", 0, 0 },                   /* overlong NUL */
    { "\xc1\xbf", 0, 0 },                   /* overlong U+007F */
    { "\xe0\x80\x80", 0, 0 },               /* overlong 3-byte */
    { "\xe0\x9f\xbf", 0, 0 },               /* overlong U+07FF */
    { "\xf0\x80\x80\x80", 0, 0 },           /* overlong 4-byte */
    { "\xf0\x8f\xbf\xbf", 0, 0 },           /* overlong U+FFFF */
    { "\xed\xa0\x80", 0, 0 },               /* U+D800 */
    { "\xed\xbf\xbf", 0, 0 },               /* U+DFFF */
    { "\xed\xa0\xbd\xed\xb8\x80", 0, 0 },   /* CESU-8 surrogate pair */
    { "\xf4\x90\x80\x80", 0, 0 },           /* U+110000 */
    { "\xf5\x80\x80\x80", 0, 0 },
    { "\xf7\xbf\xbf\xbf", 0, 0 },
    { "\xf8\x88\x80\x80\x80", 0, 0 },       /* 5-byte form */
    { "\xfc\x84\x80\x80\x80\x80", 0, 0 },   /* 6-byte form */
    { "\xfe", 0, 0 },
    { "\xff", 0, 0 },
    { "\x80", 0, 0 },                       /* lone continuation */
    { "\xbf", 0, 0 },
    { "a\x80z", 0, 0 },
    { "\xc3\xa9\xa9", 0, 0 },               /* one continuation too many */
    { "\xc3", 0, 0 },                       /* truncated */
    { "\xe2\x82", 0, 0 },
    { "\xf0\x9f\x98", 0, 0 },
    { "abc\xf0", 0, 0 },
    { "\xc3" "A", 0, 0 },                   /* lead followed by ASCII */
    { "\xe2\x82" "A", 0, 0 },
    { "\xe2" "\xc3\xa9", 0, 0 },            /* lead followed by a lead */
};

#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

static size_t vlen(const struct vec *v)
{
    return v->len ? v->len : strlen(v->s);
}


/* Feeds p in pieces cut at the given lengths; returns 0 if valid, -1 if not. */
static int feed_pieces(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts)
{
    struct utf8_state s;
    utf8_init(&s);
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t take = i < ncuts ? cuts[i] : n - pos;
        if (take > n - pos)
            take = n - pos;
        if (utf8_feed(&s, p + pos, take) < 0)
            return -1;
        pos += take;
    }
    return utf8_complete(&s) ? 0 : -1;
}

static int feed_bytewise(const uint8_t *p, size_t n)
{
    struct utf8_state s;
    utf8_init(&s);
    for (size_t i = 0; i < n; i++) {
        if (utf8_feed(&s, p + i, 1) < 0)
            return -1;
    }
    return utf8_complete(&s) ? 0 : -1;
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECS; i++) {
        const uint8_t *p = (const uint8_t *)vecs[i].s;
        size_t n = vlen(&vecs[i]);
        int want = vecs[i].valid ? 0 : -1;
        if (utf8_validate(p, n) != want)
            fail_msg("vector %zu: utf8_validate != %d", i, want);
        if (ref_valid(p, n) != vecs[i].valid)
            fail_msg("vector %zu: the reference disagrees (test bug)", i);
    }
}

static void test_bytewise_matches_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECS; i++) {
        const uint8_t *p = (const uint8_t *)vecs[i].s;
        size_t n = vlen(&vecs[i]);
        if (feed_bytewise(p, n) != utf8_validate(p, n))
            fail_msg("vector %zu: byte-by-byte verdict differs", i);
        /* Every single cut point too. */
        for (size_t cut = 0; cut <= n; cut++) {
            if (feed_pieces(p, n, &cut, 1) != utf8_validate(p, n))
                fail_msg("vector %zu cut at %zu: verdict differs", i, cut);
        }
    }
}

static void test_incomplete_is_not_complete(void **state)
{
    (void)state;
    struct utf8_state s;
    utf8_init(&s);
    assert_true(utf8_complete(&s));
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xf0", 1), 0);
    assert_false(utf8_complete(&s));
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\x9f\x98", 2), 0);
    assert_false(utf8_complete(&s));
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\x80", 1), 0);
    assert_true(utf8_complete(&s));
    /* The narrowed range of the first continuation is kept across calls. */
    utf8_init(&s);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xed", 1), 0);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xa0", 1), -1);
    utf8_init(&s);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xe0", 1), 0);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\x9f", 1), -1);
    utf8_init(&s);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xf4", 1), 0);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\x90", 1), -1);
    utf8_init(&s);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xf0", 1), 0);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\x8f", 1), -1);
    /* ...and only for the first continuation byte. */
    utf8_init(&s);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xf4\x8f", 2), 0);
    assert_int_equal(utf8_feed(&s, (const uint8_t *)"\xbf\xbf", 2), 0);
    assert_true(utf8_complete(&s));
}

static void test_every_two_byte_prefix(void **state)
{
    (void)state;
    /* All lead bytes with all second bytes, padded to a full sequence. */
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            uint8_t p[4] = { (uint8_t)a, (uint8_t)b, 0x80, 0x80 };
            for (size_t n = 2; n <= 4; n++) {
                int want = ref_valid(p, n) ? 0 : -1;
                if (utf8_validate(p, n) != want)
                    fail_msg("%02x %02x (+%zu x 80): want %d", a, b, n - 2, want);
            }
        }
    }
}

/* A byte picked so that random strings are often, but not always, valid. */
static uint8_t pick(unsigned *seed)
{
    static const uint8_t interesting[] = {
        0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
        0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xff,
    };
    unsigned r = (unsigned)rand_r(seed);
    if (r % 3 == 0)
        return (uint8_t)(0x80 | ((r >> 8) & 0x3f));
    return interesting[(r >> 8) % sizeof(interesting)];
}

static void test_random_against_reference(void **state)
{
    (void)state;
    unsigned seed = 12345;
    int valid_seen = 0;
    for (int iter = 0; iter < 50000; iter++) {
        uint8_t p[16];
        size_t n = (size_t)rand_r(&seed) % sizeof(p);
        for (size_t i = 0; i < n; i++)
            p[i] = pick(&seed);
        int want = ref_valid(p, n) ? 0 : -1;
        valid_seen += want == 0;
        if (utf8_validate(p, n) != want)
            fail_msg("iteration %d: utf8_validate != reference %d", iter, want);
        size_t cuts[3];
        for (int k = 0; k < 3; k++)
            cuts[k] = n ? (size_t)rand_r(&seed) % (n + 1) : 0;
        if (feed_pieces(p, n, cuts, 3) != want)
            fail_msg("iteration %d: feeding in pieces differs", iter);
    }
    /* The generator must exercise both verdicts to mean anything. */
    assert_true(valid_seen > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_bytewise_matches_whole),
        cmocka_unit_test(test_incomplete_is_not_complete),
        cmocka_unit_test(test_every_two_byte_prefix),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
