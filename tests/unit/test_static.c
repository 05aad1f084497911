/*
 * test_static — the web client's files (src/http/static.c and the table
 * that scripts/embed.py generates from web/).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/static.h"

static int safe(const char *p)
{
    return static_path_safe(p, strlen(p));
}

static void test_path_safe(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "/", "/index.html", "/icons/icon-192.png", "/a/b/c.js", "/a..b", "/a.b.c", "/x-y_z~1",
    };
    static const char *const bad[] = {
        "", "index.html", "..", "/..", "/../etc/passwd", "/a/../b", "/a/..", "//", "//etc/passwd",
        "/a//b", "/%2e%2e/x", "/%2e", "/a%2fb", "/a\\b", "\\", "/.hidden", "/.git/config",
        "/a/.env", "/.",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (!safe(ok[i]))
            fail_msg("'%s' rejected", ok[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (safe(bad[i]))
            fail_msg("'%s' accepted", bad[i]);
    }
    /* A NUL inside the given length. */
    assert_false(static_path_safe("/a\0b", 4));
    /* Only len bytes count. */
    assert_true(static_path_safe("/ok/../x", 3));
}

static void test_mime(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "/app.js", "text/javascript; charset=utf-8" },
        { "/style.css", "text/css; charset=utf-8" },
        { "/icons/icon-192.png", "image/png" },
        { "/manifest.json", "application/json" },
        { "/index.html", "text/html; charset=utf-8" },
        { "/favicon.svg", "image/svg+xml" },
        { "/x.mjs", "text/javascript; charset=utf-8" },
        { "/x.wasm", "application/wasm" },
        { "/x.webmanifest", "application/manifest+json" },
        { "/README", "application/octet-stream" },
        { "/x.jsx", "application/octet-stream" },
        { "/x.html.bak", "application/octet-stream" },
        { "", "application/octet-stream" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *m = static_mime(cases[i][0], strlen(cases[i][0]));
        if (strcmp(m, cases[i][1]) != 0)
            fail_msg("%s: '%s', want '%s'", cases[i][0], m, cases[i][1]);
    }
}

static void test_find_embedded(void **state)
{
    (void)state;
    const struct static_file *f = static_find("/index.html", 11);
    assert_non_null(f);
    assert_string_equal(f->path, "/index.html");
    assert_string_equal(f->mime, "text/html; charset=utf-8");
    assert_true(f->len > 0);
    assert_true(f->no_cache);
    /* It is the real page. */
    assert_non_null(memmem(f->data, f->len, "<html", 5));
    assert_null(static_find("/index.htm", 10));
    assert_null(static_find("/index.html.gz", 14));
    assert_null(static_find("/nope", 5));
    assert_null(static_find("", 0));
    /* Only len bytes count. */
    assert_non_null(static_find("/index.html?x", 11));
    f = static_find("/icons/icon-192.png", 19);
    assert_non_null(f);
    assert_string_equal(f->mime, "image/png");
    assert_memory_equal(f->data, "\x89PNG", 4);
}

static void test_embedded_table(void **state)
{
    (void)state;
    assert_true(static_embedded_count > 0);
    for (size_t i = 0; i < static_embedded_count; i++) {
        const struct static_file *f = &static_embedded[i];
        assert_non_null(f->path);
        assert_true(static_path_safe(f->path, strlen(f->path)));
        assert_ptr_equal(static_find(f->path, strlen(f->path)), f);
        assert_string_equal(f->mime, static_mime(f->path, strlen(f->path)));
        assert_non_null(f->etag);
        size_t el = strlen(f->etag);
        assert_true(el >= 3 && f->etag[0] == '"' && f->etag[el - 1] == '"');
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(static_embedded[j].etag, f->etag);
        if (f->gz) {
            assert_true(f->gz_len > 0 && f->gz_len < f->len);
            assert_memory_equal(f->gz, "\x1f\x8b", 2);
        }
    }
}

static char tmpdir[64];

static void write_file(const char *rel, const char *content)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static void test_load_disk(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/tincan-static-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char sub[128], link[128], target[128];
    snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file("/page.html", "<p>hi</p>");
    write_file("/sub/app.js", "let x;");
    write_file("/.secret", "no");
    snprintf(link, sizeof(link), "%s/link.js", tmpdir);
    snprintf(target, sizeof(target), "%s/sub/app.js", tmpdir);
    assert_int_equal(symlink(target, link), 0);

    struct static_file *f = static_load_disk(tmpdir, "/page.html", 10);
    assert_non_null(f);
    assert_int_equal(f->len, 9);
    assert_memory_equal(f->data, "<p>hi</p>", 9);
    assert_string_equal(f->mime, "text/html; charset=utf-8");
    assert_string_equal(f->path, "/page.html");
    assert_true(f->etag[0] == '"');
    static_file_free(f);
    f = static_load_disk(tmpdir, "/sub/app.js", 11);
    assert_non_null(f);
    assert_string_equal(f->mime, "text/javascript; charset=utf-8");
    static_file_free(f);

    assert_null(static_load_disk(tmpdir, "/missing", 8));
    assert_null(static_load_disk(tmpdir, "/sub", 4));        /* a directory */
    assert_null(static_load_disk(tmpdir, "/.secret", 8));    /* hidden */
    assert_null(static_load_disk(tmpdir, "/link.js", 8));    /* a symlink */
    assert_null(static_load_disk(tmpdir, "/sub/../page.html", 17));
    static_file_free(NULL);

    unlink(link);
    char p[256];
    snprintf(p, sizeof(p), "%s/sub/app.js", tmpdir);
    unlink(p);
    rmdir(sub);
    snprintf(p, sizeof(p), "%s/page.html", tmpdir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/.secret", tmpdir);
    unlink(p);
    assert_int_equal(rmdir(tmpdir), 0);
}

/* A directory symlink out of the root is refused by both ways of opening;
 * a relative symlink that stays inside is followed by openat2 only. */
static void test_open_beneath(void **state)
{
    (void)state;
    char root[64] = "/tmp/tincan-beneath-XXXXXX";
    assert_non_null(mkdtemp(root));
    char p[256], q[256];
    snprintf(p, sizeof(p), "%s/www", root);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/www/sub", root);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/out", root);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/out/secret", root);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(p, sizeof(p), "%s/www/sub/a.js", root);
    fp = fopen(p, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(q, sizeof(q), "%s/out", root);
    snprintf(p, sizeof(p), "%s/www/abs", root);
    assert_int_equal(symlink(q, p), 0);
    snprintf(p, sizeof(p), "%s/www/up", root);
    assert_int_equal(symlink("../out", p), 0);
    snprintf(p, sizeof(p), "%s/www/in", root);
    assert_int_equal(symlink("sub", p), 0);
    snprintf(p, sizeof(p), "%s/www", root);
    int dirfd = open(p, O_PATH | O_DIRECTORY);
    assert_true(dirfd >= 0);

    for (int use = 0; use <= 1; use++) {
        int fd = static_open_beneath(dirfd, "sub/a.js", use);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(static_open_beneath(dirfd, "abs/secret", use), -1);
        assert_int_equal(static_open_beneath(dirfd, "up/secret", use), -1);
        assert_int_equal(static_open_beneath(dirfd, "../out/secret", use), -1);
        assert_int_equal(static_open_beneath(dirfd, "/etc/passwd", use), -1);
        assert_int_equal(static_open_beneath(dirfd, "", use), -1);
    }
    int fd = static_open_beneath(dirfd, "in/a.js", 1);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(static_open_beneath(dirfd, "in/a.js", 0), -1);
    close(dirfd);

    const char *rm[] = { "www/abs", "www/up", "www/in", "www/sub/a.js", "out/secret" };
    for (size_t i = 0; i < sizeof(rm) / sizeof(rm[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, rm[i]);
        assert_int_equal(unlink(p), 0);
    }
    const char *dirs[] = { "www/sub", "www", "out", "" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
        assert_int_equal(rmdir(p), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_safe),
        cmocka_unit_test(test_mime),
        cmocka_unit_test(test_find_embedded),
        cmocka_unit_test(test_embedded_table),
        cmocka_unit_test(test_load_disk),
        cmocka_unit_test(test_open_beneath),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
