/*
 * test_uname — lobby name rules and keys (src/signal/uname.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "signal/uname.h"

static enum uname_result check(const char *s)
{
    return uname_check(s, strlen(s));
}

static void test_valid_names(void **state)
{
    (void)state;
    const char *ok[] = {
        "Ada", "Ada Lovelace", "a_b.c-d", "0", "Zoë", "Ærøskøbing", "Ελένη", "Андрей", "Արամ", "שרה", "سارة",
        "राहुल", "สมชาย", "ნინო", "さくら", "田中ゆき", "キム", "김민준", "王小明", "İstanbul", "Straße", "x",
        "abcdefghijklmnopqrstuvwxyz012345", /* 32 */
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (check(ok[i]) != UNAME_OK)
            fail_msg("%s refused: %s", ok[i], uname_strerror(check(ok[i])));
    }
}

static void test_refused_names(void **state)
{
    (void)state;
    assert_int_equal(check(""), UNAME_BAD_LENGTH);
    assert_int_equal(check(" Ada"), UNAME_BAD_LENGTH);
    assert_int_equal(check("Ada "), UNAME_BAD_LENGTH);
    assert_int_equal(check("abcdefghijklmnopqrstuvwxyz0123456"), UNAME_BAD_LENGTH); /* 33 */
    assert_int_equal(check("\xC3\x28"), UNAME_BAD_UTF8);
    assert_int_equal(uname_check("a\0b", 3), UNAME_BAD_UTF8);
    /* Mixed scripts: Cyrillic А or Greek Α in a Latin name. */
    assert_int_equal(check("\xD0\x90" "da"), UNAME_MIXED_SCRIPTS);
    assert_int_equal(check("\xCE\x91" "da"), UNAME_MIXED_SCRIPTS);
    assert_int_equal(check("Ad\xD0\xB0"), UNAME_MIXED_SCRIPTS);
    assert_int_equal(check("王Ada"), UNAME_MIXED_SCRIPTS);
    /* Generic combining marks (Mn of the Inherited script), enclosing marks (Me). */
    assert_int_equal(check("Ada\xCC\x81"), UNAME_BAD_CHAR);       /* U+0301 */
    assert_int_equal(check("A\xCC\xB6" "da"), UNAME_BAD_CHAR);    /* U+0336 strike-through */
    assert_int_equal(check("Ada\xE2\x83\x9D"), UNAME_BAD_CHAR);   /* U+20DD enclosing circle */
    /* Unassigned code points (Cn), private use, look-alike punctuation. */
    assert_int_equal(check("Ada\xCD\xB8"), UNAME_BAD_CHAR);        /* U+0378 unassigned */
    assert_int_equal(check("Ada\xEE\x80\x80"), UNAME_BAD_CHAR);    /* U+E000 private use */
    assert_int_equal(check("Ada\xCD\xBE"), UNAME_BAD_CHAR);        /* U+037E Greek question mark */
    assert_int_equal(check("Ada\xE2\x80\x8B"), UNAME_BAD_CHAR);    /* U+200B zero width space */
    assert_int_equal(check("Ada\xE2\x80\xAE"), UNAME_BAD_CHAR);    /* U+202E right-to-left override */
    assert_int_equal(check("A\xC2\xA0" "da"), UNAME_BAD_CHAR);     /* U+00A0 no-break space */
    assert_int_equal(check("Ada\xF0\x9F\x98\x80"), UNAME_BAD_CHAR); /* emoji */
    assert_int_equal(check("a<b"), UNAME_BAD_CHAR);
    assert_int_equal(check("a/b"), UNAME_BAD_CHAR);
}

static void skel(const char *s, char *out)
{
    assert_true(uname_skeleton(s, strlen(s), out, UNAME_KEY_MAX) >= 0);
}

static void assert_alike(const char *a, const char *b)
{
    char x[UNAME_KEY_MAX], y[UNAME_KEY_MAX];
    skel(a, x);
    skel(b, y);
    if (strcmp(x, y) != 0)
        fail_msg("%s and %s should share a skeleton: %s vs %s", a, b, x, y);
}

static void assert_unlike(const char *a, const char *b)
{
    char x[UNAME_KEY_MAX], y[UNAME_KEY_MAX];
    skel(a, x);
    skel(b, y);
    if (strcmp(x, y) == 0)
        fail_msg("%s and %s should differ: both %s", a, b, x);
}

static void test_skeletons(void **state)
{
    (void)state;
    assert_alike("Ada", "\xD0\x90" "da");       /* Cyrillic А */
    assert_alike("Ada", "\xCE\x91" "da");       /* Greek Α */
    assert_alike("ada", "\xD0\xB0" "d\xD0\xB0"); /* Cyrillic а */
    assert_alike("Ada", "ada");
    assert_alike("leo", "\xC7\x80" "eo");       /* U+01C0 dental click */
    assert_alike("Ian", "lan");                 /* capital I, small L */
    assert_alike("Paypal", "PayPaI");
    assert_alike("OSCAR", "0SCAR");
    assert_alike("straße", "STRASSE");           /* full case folding */
    /* A chain through folding: Ϛ folds to ϛ, looks like ς, folds to σ, looks
     * like o. The skeleton follows it to the end and is its own skeleton. */
    assert_alike("B\xCF\x9A" "b", "Bob");
    char once[UNAME_KEY_MAX], twice[UNAME_KEY_MAX];
    skel("\xCF\x9A", once);
    skel(once, twice);
    assert_string_equal(once, twice);
    assert_unlike("Ada", "Ida");
    assert_unlike("Bob", "Rob");
    assert_unlike("Анна", "Аня");
}

static void test_fold_key(void **state)
{
    (void)state;
    char k[UNAME_KEY_MAX];
    assert_int_equal(uname_fold_key("Straße", strlen("Straße"), k, sizeof(k)), 7);
    assert_string_equal(k, "strasse");
    assert_true(uname_fold_key("ΣΊΣΥΦΟΣ", strlen("ΣΊΣΥΦΟΣ"), k, sizeof(k)) > 0);
    assert_string_equal(k, "σίσυφοσ");
    assert_int_equal(uname_fold_key("\xC3\x28", 2, k, sizeof(k)), -1);
    /* The longest name, folding to three code points each, still fits. */
    char big[UNAME_MAX_BYTES + 1] = "";
    for (int i = 0; i < UNAME_MAX_CHARS; i++)
        strcat(big, "\xEF\xAC\x83"); /* U+FB03 ﬃ → ffi */
    assert_int_equal(uname_check(big, strlen(big)), UNAME_OK);
    assert_int_equal(uname_fold_key(big, strlen(big), k, sizeof(k)), 96);
    assert_true(uname_skeleton(big, strlen(big), k, sizeof(k)) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_names),
        cmocka_unit_test(test_refused_names),
        cmocka_unit_test(test_skeletons),
        cmocka_unit_test(test_fold_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
