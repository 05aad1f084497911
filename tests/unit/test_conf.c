/*
 * test_conf — options and their sources (src/base/conf.c).
 *
 * Defaults, each option type, every source (config file text, .env text,
 * environment, command line) and the error messages a user sees: an invalid
 * value must name the option it belongs to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/conf.h"

static const char *const names[] = {
    "port", "bind", "cert", "key", "data-dir", "web-root", "config", "log-level", "san",
    "allow-origin", "max-conns-per-ip", "max-ws-per-ip", "max-connections", "max-lobby", "ws-max-message", "header-timeout",
    "keepalive-timeout", "tls-timeout", "ws-ping-interval", "help", "version",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* The environment variable of an option: TINCAN_ + upper case, '-' → '_'. */
static void env_of(const char *name, char *out)
{
    strcpy(out, "TINCAN_");
    char *o = out + 7;
    for (; *name; name++)
        *o++ = *name == '-' ? '_' : (char)(*name >= 'a' && *name <= 'z' ? *name - 32 : *name);
    *o = '\0';
}

/* Each test starts and ends with no TINCAN_ variables set. */
static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < NNAMES; i++) {
        char env[64];
        env_of(names[i], env);
        unsetenv(env);
    }
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    struct conf c;
    conf_init(&c);
    assert_int_equal(c.port, 8443);
    assert_null(c.bind);
    assert_null(c.cert);
    assert_null(c.key);
    assert_string_equal(c.data_dir, "./data");
    assert_null(c.web_root);
    assert_null(c.config);
    assert_int_equal(c.log_level, LOG_INFO);
    assert_int_equal(c.san.count, 0);
    assert_int_equal(c.allow_origin.count, 0);
    assert_int_equal(c.max_conns_per_ip, 256);
    assert_int_equal(c.max_ws_per_ip, 1024);
    assert_int_equal(c.max_connections, 0);
    assert_int_equal(c.ws_max_message, 65536);
    assert_int_equal(c.header_timeout, 10);
    assert_int_equal(c.keepalive_timeout, 75);
    assert_int_equal(c.tls_timeout, 10);
    assert_int_equal(c.ws_ping_interval, 30);
    assert_int_equal(c.max_room, 8);
    assert_string_equal(c.room_mode, "auto");
    assert_int_equal(c.mesh_max, 4);
    assert_int_equal(c.max_sfu_room, 50);
    assert_int_equal(c.help, 0);
    assert_int_equal(c.version, 0);
    char err[256] = "";
    assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
    conf_cleanup(&c);
}

static void set_ok(struct conf *c, const char *name, const char *value)
{
    char err[256] = "";
    if (conf_set(c, name, value, err, sizeof(err)) != 0)
        fail_msg("conf_set(%s, %s) failed: %s", name, value, err);
}

static void test_set_each_type(void **state)
{
    (void)state;
    struct conf c;
    conf_init(&c);
    set_ok(&c, "port", "1234");
    assert_int_equal(c.port, 1234);
    set_ok(&c, "port", "1");
    assert_int_equal(c.port, 1);
    set_ok(&c, "port", "65535");
    assert_int_equal(c.port, 65535);
    set_ok(&c, "bind", "127.0.0.1");
    assert_string_equal(c.bind, "127.0.0.1");
    set_ok(&c, "bind", "::1");
    assert_string_equal(c.bind, "::1");
    set_ok(&c, "cert", "/etc/tincan/cert.pem");
    assert_string_equal(c.cert, "/etc/tincan/cert.pem");
    set_ok(&c, "key", "/etc/tincan/key.pem");
    assert_string_equal(c.key, "/etc/tincan/key.pem");
    set_ok(&c, "data-dir", "/var/lib/tincan");
    assert_string_equal(c.data_dir, "/var/lib/tincan");
    set_ok(&c, "web-root", "web");
    assert_string_equal(c.web_root, "web");
    set_ok(&c, "log-level", "debug");
    assert_int_equal(c.log_level, LOG_DEBUG);
    set_ok(&c, "log-level", "error");
    assert_int_equal(c.log_level, LOG_ERROR);
    set_ok(&c, "san", "call.example.org");
    set_ok(&c, "san", "192.0.2.7");
    assert_int_equal(c.san.count, 2);
    assert_string_equal(c.san.items[0], "call.example.org");
    assert_string_equal(c.san.items[1], "192.0.2.7");
    set_ok(&c, "allow-origin", "https://a.example");
    assert_int_equal(c.allow_origin.count, 1);
    set_ok(&c, "max-conns-per-ip", "3");
    assert_int_equal(c.max_conns_per_ip, 3);
    set_ok(&c, "ws-max-message", "125");
    assert_int_equal(c.ws_max_message, 125);
    set_ok(&c, "header-timeout", "2");
    set_ok(&c, "keepalive-timeout", "3");
    set_ok(&c, "tls-timeout", "4");
    set_ok(&c, "ws-ping-interval", "5");
    assert_int_equal(c.header_timeout, 2);
    assert_int_equal(c.keepalive_timeout, 3);
    assert_int_equal(c.tls_timeout, 4);
    assert_int_equal(c.ws_ping_interval, 5);
    set_ok(&c, "help", "true");
    assert_int_equal(c.help, 1);
    set_ok(&c, "help", "false");
    assert_int_equal(c.help, 0);
    set_ok(&c, "version", "1");
    assert_int_equal(c.version, 1);
    conf_cleanup(&c);
    conf_cleanup(&c); /* twice is harmless */
}

static void test_invalid_values(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        { "port", "0" }, { "port", "65536" }, { "port", "abc" }, { "port", "12x" },
        { "port", "" }, { "port", "99999999999999999999" }, { "port", "-1" },
        { "bind", "localhost" }, { "bind", "1.2.3" }, { "bind", "" },
        { "log-level", "loud" }, { "log-level", "" },
        { "max-conns-per-ip", "0" }, { "ws-max-message", "124" },
        { "ws-max-message", "16777217" }, { "header-timeout", "0" },
        { "keepalive-timeout", "86401" }, { "tls-timeout", "x" },
        { "ws-ping-interval", "0" }, { "help", "maybe" }, { "cert", "" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct conf c;
        conf_init(&c);
        char err[256] = "";
        int port = c.port;
        if (conf_set(&c, bad[i][0], bad[i][1], err, sizeof(err)) != -1)
            fail_msg("%s = '%s' accepted", bad[i][0], bad[i][1]);
        if (!strstr(err, bad[i][0]))
            fail_msg("%s = '%s': message '%s' does not name the option", bad[i][0], bad[i][1], err);
        assert_int_equal(c.port, port);
        conf_cleanup(&c);
    }
    struct conf c;
    conf_init(&c);
    char err[256] = "";
    assert_int_equal(conf_set(&c, "no-such-option", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no-such-option"));
    /* A truncated message is still a terminated string. */
    char tiny[8];
    assert_int_equal(conf_set(&c, "port", "nope", tiny, sizeof(tiny)), -1);
    assert_true(strlen(tiny) < sizeof(tiny));
    conf_cleanup(&c);
}

static void test_file_text(void **state)
{
    (void)state;
    struct conf c;
    conf_init(&c);
    char err[256] = "";
    const char *text =
        "# tincan.conf\n"
        "\n"
        "port = 9000\n"
        "   # an indented comment\n"
        "  data-dir   =   \"/srv/tin can\"  \n"
        "log-level='warn'\r\n"
        "san = a.example\n"
        "san=b.example\n"
        "web-root = 'my web'\n"
        "ws-max-message = 4096";
    assert_int_equal(conf_parse_file_text(&c, text, "tincan.conf", err, sizeof(err)), 0);
    assert_int_equal(c.port, 9000);
    assert_string_equal(c.data_dir, "/srv/tin can");
    assert_int_equal(c.log_level, LOG_WARN);
    assert_int_equal(c.san.count, 2);
    assert_string_equal(c.san.items[0], "a.example");
    assert_string_equal(c.san.items[1], "b.example");
    assert_string_equal(c.web_root, "my web");
    assert_int_equal(c.ws_max_message, 4096);
    conf_cleanup(&c);

    /* Errors carry the source, the line and the option. */
    conf_init(&c);
    assert_int_equal(conf_parse_file_text(&c, "# x\nport = 9000\nport = nope\n", "my.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "my.conf"));
    assert_non_null(strstr(err, ":3"));
    assert_non_null(strstr(err, "port"));
    assert_int_equal(conf_parse_file_text(&c, "port 9000\n", "my.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "my.conf:1"));
    assert_int_equal(conf_parse_file_text(&c, "bogus = 1\n", "my.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(conf_parse_file_text(&c, "", "empty.conf", err, sizeof(err)), 0);
    conf_cleanup(&c);
}

static void test_dotenv_text(void **state)
{
    (void)state;
    struct conf c;
    conf_init(&c);
    char err[256] = "";
    assert_int_equal(setenv("TINCAN_TLS_TIMEOUT", "7", 1), 0);
    const char *text =
        "# .env\n"
        "TINCAN_PORT=9100\n"
        "PORT=1\n"                       /* not ours */
        "OTHER_TINCAN_PORT=2\n"
        "DATABASE_URL=postgres://x\n"
        "export TINCAN_LOG_LEVEL=debug\n"
        "TINCAN_DATA_DIR=\"/tmp/d\"\n"
        "TINCAN_MAX_CONNS_PER_IP=5\n"
        "TINCAN_TLS_TIMEOUT=99\n";       /* the real environment wins */
    assert_int_equal(conf_parse_dotenv_text(&c, text, err, sizeof(err)), 0);
    assert_int_equal(c.port, 9100);
    assert_int_equal(c.log_level, LOG_DEBUG);
    assert_string_equal(c.data_dir, "/tmp/d");
    assert_int_equal(c.max_conns_per_ip, 5);
    assert_int_equal(c.tls_timeout, 10);
    /* Then the environment itself is applied. */
    assert_int_equal(conf_apply_env(&c, err, sizeof(err)), 0);
    assert_int_equal(c.tls_timeout, 7);
    assert_int_equal(c.port, 9100);
    unsetenv("TINCAN_TLS_TIMEOUT");

    /* A bad value in .env names the option. */
    assert_int_equal(conf_parse_dotenv_text(&c, "TINCAN_PORT=abc\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "port"));
    assert_non_null(strstr(err, ".env"));
    conf_cleanup(&c);
}

static void test_env(void **state)
{
    (void)state;
    struct conf c;
    conf_init(&c);
    char err[256] = "";
    setenv("TINCAN_PORT", "7000", 1);
    setenv("TINCAN_SAN", "a.example,b.example", 1);
    setenv("TINCAN_WS_PING_INTERVAL", "12", 1);
    setenv("TINCAN_HELP", "1", 1); /* flags are command-line only */
    assert_int_equal(conf_apply_env(&c, err, sizeof(err)), 0);
    assert_int_equal(c.port, 7000);
    assert_int_equal(c.ws_ping_interval, 12);
    assert_int_equal(c.san.count, 2);
    assert_string_equal(c.san.items[0], "a.example");
    assert_string_equal(c.san.items[1], "b.example");
    assert_int_equal(c.help, 0);
    conf_cleanup(&c);

    conf_init(&c);
    setenv("TINCAN_PORT", "seventy", 1);
    assert_int_equal(conf_apply_env(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "port"));
    conf_cleanup(&c);
    clear_env(NULL);
}

static int args(struct conf *c, char *err, size_t errlen, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    argv[0] = "tincan";
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    return conf_parse_args(c, argc, argv, err, errlen);
}

static void test_args(void **state)
{
    (void)state;
    struct conf c;
    char err[256] = "";
    conf_init(&c);
    assert_int_equal(args(&c, err, sizeof(err), 1), 0);
    assert_int_equal(c.port, 8443);
    assert_int_equal(args(&c, err, sizeof(err), 3, "--port", "1"), 0);
    assert_int_equal(c.port, 1);
    assert_int_equal(args(&c, err, sizeof(err), 2, "--port=2"), 0);
    assert_int_equal(c.port, 2);
    assert_int_equal(args(&c, err, sizeof(err), 3, "--help", "--version"), 0);
    assert_int_equal(c.help, 1);
    assert_int_equal(c.version, 1);
    assert_int_equal(args(&c, err, sizeof(err), 5, "--log-level", "warn", "--bind=::", "--tls-timeout=3"), 0);
    assert_int_equal(c.log_level, LOG_WARN);
    assert_string_equal(c.bind, "::");
    assert_int_equal(c.tls_timeout, 3);
    /* A value may itself contain '='. */
    assert_int_equal(args(&c, err, sizeof(err), 2, "--web-root=/a=b"), 0);
    assert_string_equal(c.web_root, "/a=b");
    conf_cleanup(&c);

    conf_init(&c);
    assert_int_equal(args(&c, err, sizeof(err), 3, "--bogus", "1"), -1);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(args(&c, err, sizeof(err), 2, "--bogus=1"), -1);
    assert_non_null(strstr(err, "--bogus"));
    assert_null(strstr(err, "=1"));
    assert_int_equal(args(&c, err, sizeof(err), 2, "--port"), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(args(&c, err, sizeof(err), 2, "--port="), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(args(&c, err, sizeof(err), 3, "--port", "http"), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(args(&c, err, sizeof(err), 2, "port"), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(args(&c, err, sizeof(err), 3, "-p", "1"), -1);
    assert_int_equal(args(&c, err, sizeof(err), 2, "--"), -1);
    assert_int_equal(args(&c, err, sizeof(err), 2, "--portx=1"), -1);
    assert_int_equal(args(&c, err, sizeof(err), 2, "--por=1"), -1);
    assert_int_equal(c.port, 8443);
    conf_cleanup(&c);
}

static void test_lists(void **state)
{
    (void)state;
    struct conf c;
    char err[256] = "";
    conf_init(&c);
    assert_int_equal(args(&c, err, sizeof(err), 8, "--san", "a", "--san=b,c", "--allow-origin",
                          "https://x.example", "--san", ",d,,"), 0);
    assert_int_equal(c.san.count, 4);
    assert_string_equal(c.san.items[0], "a");
    assert_string_equal(c.san.items[1], "b");
    assert_string_equal(c.san.items[2], "c");
    assert_string_equal(c.san.items[3], "d");
    assert_int_equal(c.allow_origin.count, 1);
    assert_string_equal(c.allow_origin.items[0], "https://x.example");
    conf_cleanup(&c);
    assert_int_equal(c.san.count, 0);

    /* At most CONF_LIST_MAX entries. */
    conf_init(&c);
    for (int i = 0; i < CONF_LIST_MAX; i++) {
        char v[16];
        snprintf(v, sizeof(v), "h%d", i);
        set_ok(&c, "san", v);
    }
    assert_int_equal(conf_set(&c, "san", "one-too-many", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "san"));
    assert_int_equal(c.san.count, CONF_LIST_MAX);
    conf_cleanup(&c);
}

/* "a, b" in a config file or TINCAN_ALLOW_ORIGIN means the items "a" and
 * "b": an Origin or certificate name never begins or ends with a space. */
static void test_list_items_trimmed(void **state)
{
    (void)state;
    struct conf c;
    char err[256] = "";
    conf_init(&c);
    char got[4][64] = { "", "", "", "" };
    int rc1 = conf_parse_file_text(&c, "allow-origin = https://a.example, https://b.example\n",
                                   "t.conf", err, sizeof(err));
    int n1 = c.allow_origin.count;
    for (int i = 0; i < n1 && i < 2; i++)
        snprintf(got[i], sizeof(got[i]), "%s", c.allow_origin.items[i]);
    conf_cleanup(&c);

    conf_init(&c);
    setenv("TINCAN_SAN", "a.example , b.example", 1);
    int rc2 = conf_apply_env(&c, err, sizeof(err));
    unsetenv("TINCAN_SAN");
    int n2 = c.san.count;
    for (int i = 0; i < n2 && i < 2; i++)
        snprintf(got[2 + i], sizeof(got[i]), "%s", c.san.items[i]);
    conf_cleanup(&c);

    assert_int_equal(rc1, 0);
    assert_int_equal(n1, 2);
    assert_string_equal(got[0], "https://a.example");
    assert_string_equal(got[1], "https://b.example");
    assert_int_equal(rc2, 0);
    assert_int_equal(n2, 2);
    assert_string_equal(got[2], "a.example");
    assert_string_equal(got[3], "b.example");
}

/* An error names the line as an editor numbers it, blank lines included. */
static void test_file_error_line_number(void **state)
{
    (void)state;
    struct conf c;
    char err[256] = "";
    conf_init(&c);
    int rc = conf_parse_file_text(&c, "port = 1\n\n\n# comment\n\nport = nope\n", "t.conf", err, sizeof(err));
    conf_cleanup(&c);
    assert_int_equal(rc, -1);
    if (!strstr(err, "t.conf:6:"))
        fail_msg("error '%s' does not point at t.conf:6", err);
}

static void test_check(void **state)
{
    (void)state;
    struct conf c;
    char err[256] = "";
    conf_init(&c);
    set_ok(&c, "cert", "c.pem");
    assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "key"));
    set_ok(&c, "key", "k.pem");
    assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
    conf_cleanup(&c);
    conf_init(&c);
    set_ok(&c, "key", "k.pem");
    assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cert"));
    conf_cleanup(&c);
    /* room-mode is one of three words. */
    const char *modes[] = { "auto", "mesh", "sfu" };
    for (size_t i = 0; i < 3; i++) {
        conf_init(&c);
        set_ok(&c, "room-mode", modes[i]);
        assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
        conf_cleanup(&c);
    }
    conf_init(&c);
    set_ok(&c, "room-mode", "SFU");
    assert_int_equal(conf_check(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "room-mode"));
    conf_cleanup(&c);
}

static void test_help(void **state)
{
    (void)state;
    static char help[16384];
    conf_help(help, sizeof(help));
    assert_true(strlen(help) < sizeof(help) - 1);
    for (size_t i = 0; i < NNAMES; i++) {
        char opt[64];
        snprintf(opt, sizeof(opt), "--%s", names[i]);
        if (!strstr(help, opt))
            fail_msg("--help does not mention %s", opt);
    }
    assert_non_null(strstr(help, "TINCAN_MAX_CONNS_PER_IP"));
    assert_non_null(strstr(help, "TINCAN_PORT"));
    /* Small buffers get a terminated prefix and nothing is written past them. */
    for (size_t len = 1; len < 400; len += 37) {
        char *small = malloc(len);
        assert_non_null(small);
        conf_help(small, len);
        assert_true(strlen(small) < len);
        assert_memory_equal(small, help, strlen(small));
        free(small);
    }
    size_t full = strlen(help);
    char *exact = malloc(full);
    assert_non_null(exact);
    conf_help(exact, full);
    assert_int_equal(strlen(exact), full - 1);
    free(exact);
}

static void test_find_config_path(void **state)
{
    (void)state;
    char *a1[] = { "tincan", "--port", "1", "--config", "x.conf", NULL };
    assert_string_equal(conf_find_config_path(5, a1), "x.conf");
    char *a2[] = { "tincan", "--config=y.conf", NULL };
    assert_string_equal(conf_find_config_path(2, a2), "y.conf");
    char *a3[] = { "tincan", NULL };
    assert_null(conf_find_config_path(1, a3));
    setenv("TINCAN_CONFIG", "env.conf", 1);
    assert_string_equal(conf_find_config_path(1, a3), "env.conf");
    assert_string_equal(conf_find_config_path(2, a2), "y.conf"); /* command line wins */
    unsetenv("TINCAN_CONFIG");
}

#define T(f) cmocka_unit_test_setup_teardown(f, clear_env, clear_env)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_set_each_type),
        T(test_invalid_values),
        T(test_file_text),
        T(test_dotenv_text),
        T(test_env),
        T(test_args),
        T(test_lists),
        T(test_list_items_trimmed),
        T(test_file_error_line_number),
        T(test_check),
        T(test_help),
        T(test_find_config_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
