/*
 * accounts_cli — `tincan user ...` and `tincan invite` (see accounts_cli.h).
 */
#include "accounts_cli.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "../base/conf.h"
#include "../base/isotime.h"
#include "../base/pwhash.h"
#include "../http/accounts_api.h"
#include "../store/store.h"
#include "../store/users.h"
#include "accounts_glue.h"
#include "server.h"

struct cli {
    const char *verb, *name; /* "add", "disable", ... / NULL; the account */
    int admin;
    struct conf conf;
};

int accounts_cli_is_command(int argc, char **argv)
{
    return argc > 1 && (strcmp(argv[1], "user") == 0 || strcmp(argv[1], "invite") == 0);
}

static int usage(void)
{
    fputs("usage: tincan user add NAME [--admin] < password\n"
          "       tincan user disable|enable|admin NAME\n"
          "       tincan invite [--admin]\n"
          "  options: --data-dir DIR, --db FILE\n", stderr);
    return 2;
}

/* Reads argv after the command word into cli; -1 on a usage error. */
static int parse(struct cli *cli, int argc, char **argv, int first)
{
    char err[256];
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--admin") == 0) {
            cli->admin = 1;
        } else if ((strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--data-dir") == 0) && i + 1 < argc) {
            if (conf_set(&cli->conf, argv[i] + 2, argv[i + 1], err, sizeof(err)) < 0)
                return -1;
            i++;
        } else if (argv[i][0] != '-' && !cli->name) {
            cli->name = argv[i];
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads one line (the password) from stdin without its newline. */
static int read_password(char *out, size_t cap)
{
    if (!fgets(out, (int)cap, stdin))
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    size_t n = strlen(out);
    return n >= 8 && n <= 128 ? 0 : -1;
}

static int user_add(struct store *st, const struct cli *cli)
{
    char pw[256], hash[PWHASH_MAX];
    int64_t id;
    if (!accounts_valid_username(cli->name)) {
        fprintf(stderr, "tincan: invalid user name (1-32 of A-Z a-z 0-9 _ . -)\n");
        return 1;
    }
    if (read_password(pw, sizeof(pw)) < 0) {
        fprintf(stderr, "tincan: give the password (8-128 bytes) on stdin\n");
        return 1;
    }
    int rc = pwhash_hash(pw, strlen(pw), hash, sizeof(hash));
    OPENSSL_cleanse(pw, sizeof(pw));
    enum store_status res = rc < 0 ? STORE_ERROR : users_create(st, cli->name, hash, cli->admin, isotime_now_ms(), &id);
    if (res == STORE_CONFLICT)
        fprintf(stderr, "tincan: user %s exists\n", cli->name);
    else if (res == STORE_OK)
        printf("added user %s%s\n", cli->name, cli->admin ? " (admin)" : "");
    return res == STORE_OK ? 0 : 1;
}

static int run(struct store *st, const struct cli *cli)
{
    if (!cli->verb) {
        char code[64];
        if (cli->name || accounts_invite_new(st, cli->admin, isotime_now_ms(), code) < 0)
            return 1;
        printf("%s\n", code);
        return 0;
    }
    if (!cli->name)
        return usage();
    if (strcmp(cli->verb, "add") == 0)
        return user_add(st, cli);
    enum store_status res = STORE_ERROR;
    if (strcmp(cli->verb, "disable") == 0 || strcmp(cli->verb, "enable") == 0)
        res = users_set_disabled(st, cli->name, strcmp(cli->verb, "disable") == 0);
    else if (strcmp(cli->verb, "admin") == 0)
        res = users_set_admin(st, cli->name);
    else
        return usage();
    if (res == STORE_NOT_FOUND)
        fprintf(stderr, "tincan: no user %s\n", cli->name);
    return res == STORE_OK ? 0 : 1;
}

int accounts_cli_main(int argc, char **argv)
{
    struct cli cli = { 0 };
    conf_init(&cli.conf);
    int user = strcmp(argv[1], "user") == 0;
    if (user && argc > 2)
        cli.verb = argv[2];
    int rc = 2;
    if ((user && !cli.verb) || parse(&cli, argc, argv, user ? 3 : 2) < 0) {
        rc = usage();
        goto out;
    }
    char path[4200], err[600];
    struct store *st = NULL;
    rc = 1;
    if (server_db_path(&cli.conf, path, sizeof(path)) == 0)
        st = store_open(path, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "tincan: cannot open the database %s\n", path);
        goto out;
    }
    rc = run(st, &cli);
    store_close(st);
out:
    conf_cleanup(&cli.conf);
    return rc;
}
