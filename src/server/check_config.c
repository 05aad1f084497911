/*
 * check_config — validate and print the effective settings (see
 * check_config.h).
 */
#include "check_config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../acme/acme.h"
#include "../base/alloc.h"
#include "../base/conf.h"
#include "../base/confload.h"
#include "../net/tls.h"

#define VALUE_MAX 4096
#define MASK "********"

/* Options whose values are never printed. */
static const char *const secrets[] = { "turn-secret", "metrics-token" };

static const char *const source_names[] = {
    [CONFLOAD_DEFAULT] = "default", [CONFLOAD_FILE] = "config file", [CONFLOAD_DOTENV] = ".env",
    [CONFLOAD_ENV] = "environment", [CONFLOAD_ARGS] = "command line",
};

static int is_secret(const char *name)
{
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (strcmp(name, secrets[i]) == 0)
            return 1;
    }
    return 0;
}

/* "name:pass, other:pass" → "name:********, other:********"; a value
 * without a colon may be a bare password and is masked whole. */
static void mask_users(const struct conf_list *l, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (int k = 0; k < l->count && o < len; k++) {
        const char *colon = strchr(l->items[k], ':');
        int nlen = colon ? (int)(colon - l->items[k]) : 0;
        int n = snprintf(out + o, len - o, "%s%.*s%s%s", k ? ", " : "", nlen, l->items[k], colon ? ":" : "", MASK);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

static void print_settings(const struct conf *c)
{
    char v[VALUE_MAX];
    for (size_t i = 0; i < conf_count(); i++) {
        const char *name = conf_name(i);
        if (strcmp(name, "help") == 0 || strcmp(name, "version") == 0)
            continue;
        conf_value(c, i, v, sizeof(v));
        if (strcmp(name, "turn-user") == 0)
            mask_users(&c->turn_user, v, sizeof(v));
        else if (v[0] && is_secret(name))
            snprintf(v, sizeof(v), "%s", MASK);
        printf("%s = %s (%s)\n", name, v[0] ? v : "(unset)", source_names[conf_set_by(c, i)]);
    }
}

/* --- checks; each prints its problem and returns -1, or 0 --- */

static int problem(const char *option, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "tincan: invalid value for %s: ", option);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return -1;
}

static void print_expiry(SSL_CTX *ctx, const char *what)
{
    time_t end = (time_t)tls_ctx_not_after(ctx);
    struct tm tm;
    char when[64] = "?";
    if (gmtime_r(&end, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("# %s certificate expires %s (in %lld days)\n", what, when, (long long)(end - time(NULL)) / 86400);
}

static int check_tls(const struct conf *c)
{
    char err[512], cert[4096], key[4096];
    const char *what = c->cert ? "the" : "the self-signed";
    snprintf(cert, sizeof(cert), "%s", c->cert ? c->cert : "");
    snprintf(key, sizeof(key), "%s", c->key ? c->key : "");
    if (!c->cert && c->domain.count > 0) {
        /* ACME: the stored certificate if there is one (as acme_glue names it). */
        what = "the ACME";
        char dir[4000] = "";
        acme_ca_dir(c->data_dir, acme_directory_url(c->acme_directory, c->acme_staging), dir, sizeof(dir));
        snprintf(cert, sizeof(cert), "%s/%s.pem", dir, c->domain.items[0]);
        snprintf(key, sizeof(key), "%s", cert);
        if (access(cert, F_OK) != 0) {
            printf("# no certificate for %s yet: a self-signed one is served until ACME has one\n",
                   c->domain.items[0]);
            return 0;
        }
    } else if (!c->cert) {
        snprintf(cert, sizeof(cert), "%s/cert.pem", c->data_dir);
        snprintf(key, sizeof(key), "%s/key.pem", c->data_dir);
        if (access(cert, F_OK) != 0) {
            printf("# a self-signed certificate will be created in %s\n", c->data_dir);
            return 0;
        }
    }
    SSL_CTX *ctx = tls_ctx_load(cert, key, err, sizeof(err));
    if (!ctx) {
        if (c->cert)
            return problem("cert", "%s%s", err, "");
        printf("# %s (it will be replaced by a new self-signed one)\n", err);
        return 0;
    }
    int rc = 0;
    if (tls_ctx_not_after(ctx) < (long long)time(NULL))
        rc = c->cert ? problem("cert", "%s has expired%s", cert, "") : 0;
    print_expiry(ctx, what);
    SSL_CTX_free(ctx);
    return rc;
}

static int check_data_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return problem("data-dir", "'%s' is not a directory%s", dir, "");
        if (access(dir, W_OK | X_OK) != 0)
            return problem("data-dir", "'%s' is not writable: %s", dir, strerror(errno));
        return 0;
    }
    char *copy = xstrdup(dir);
    const char *parent = dirname(copy);
    int rc = 0;
    if (access(parent, W_OK | X_OK) != 0)
        rc = problem("data-dir", "'%s' does not exist and cannot be created in its parent: %s", dir,
                     strerror(errno));
    else
        printf("# data-dir %s will be created\n", dir);
    xfree(copy);
    return rc;
}

static int check_web_root(const char *root)
{
    struct stat st;
    if (!root)
        return 0;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode) || access(root, R_OK | X_OK) != 0)
        return problem("web-root", "'%s' is not a readable directory%s", root, "");
    return 0;
}

static int check_ports(const struct conf *c)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", c->port);
    if (c->port >= c->relay_port_lo && c->port <= c->relay_port_hi)
        return problem("relay-ports", "'%s' includes the main port (UDP)%s", c->relay_ports, "");
    if (c->http_port == c->port)
        return problem("http-port", "'%s' is the main port%s", port, "");
    return 0;
}

/* The REST API's database: its directory must be writable (SQLite adds a
 * journal next to it). */
static int check_db(const struct conf *c)
{
    if (c->no_rest_api || !c->db || strcmp(c->db, ":memory:") == 0)
        return 0; /* the default lives in the data dir, checked already */
    char *copy = xstrdup(c->db);
    const char *dir = dirname(copy);
    int rc = 0;
    if (access(dir, W_OK | X_OK) != 0)
        rc = problem("db", "cannot write in the directory of '%s': %s", c->db, strerror(errno));
    xfree(copy);
    return rc;
}

static int check_acme(const struct conf *c)
{
    if (c->acme_ca_cert && access(c->acme_ca_cert, R_OK) != 0)
        return problem("acme-ca-cert", "cannot read '%s': %s", c->acme_ca_cert, strerror(errno));
    return 0;
}

int check_config_main(int argc, char **argv)
{
    struct conf c;
    conf_init(&c);
    char err[512];
    int rc = 2;
    if (confload(&c, argc, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "tincan: %s\n", err);
        goto out;
    }
    int check = conf_check(&c, err, sizeof(err));
    print_settings(&c);
    if (check < 0) {
        fprintf(stderr, "tincan: %s\n", err);
        goto out;
    }
    int bad = 0;
    bad |= check_ports(&c);
    bad |= check_data_dir(c.data_dir);
    bad |= check_web_root(c.web_root);
    bad |= check_acme(&c);
    bad |= check_db(&c);
    bad |= check_tls(&c);
    if (bad)
        goto out;
    printf("# configuration ok\n");
    rc = 0;
out:
    fflush(stdout);
    conf_cleanup(&c);
    return rc;
}
