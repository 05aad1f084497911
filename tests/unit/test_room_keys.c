/*
 * test_room_keys — the shape check of a relayed e2ee-key (src/signal/room_keys.c):
 * 1-512 characters of base64url, nothing else, lengths taken from the caller.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "signal/room_keys.h"

static void test_accepted(void **state)
{
    (void)state;
    char max[ROOM_KEY_MAX + 1];
    memset(max, 'A', ROOM_KEY_MAX);
    max[ROOM_KEY_MAX] = 0;
    assert_true(room_key_valid("a", 1));
    assert_true(room_key_valid("AZaz09-_", 8));
    assert_true(room_key_valid(max, ROOM_KEY_MAX));
}

static void test_refused(void **state)
{
    (void)state;
    char over[ROOM_KEY_MAX + 2];
    memset(over, 'A', sizeof(over));
    assert_false(room_key_valid(over, ROOM_KEY_MAX + 1));
    assert_false(room_key_valid("", 0));
    assert_false(room_key_valid(NULL, 3));
    const char *bad[] = { "ab=", "a+b", "a/b", "a b", "a.b", "\xc3\xa9", "a\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (room_key_valid(bad[i], strlen(bad[i])))
            fail_msg("'%s' was accepted", bad[i]);
    }
    /* An embedded NUL counts: the length is the caller's, not strlen's. */
    assert_false(room_key_valid("ab\0c", 4));
    /* Only the first n bytes are read. */
    assert_true(room_key_valid("abc=", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
