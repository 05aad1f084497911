/*
 * accounts_wait — a request of the accounts API waiting for argon2id (see
 * accounts_api.h, accounts_handle). A route that needs a password hashed
 * or verified calls accounts_wait_for() with a continuation; the request's
 * context is kept in its struct accounts_wait, the caller runs
 * accounts_wait_work() on a worker thread (src/server/accounts_glue.c
 * hands it to src/base/workq.c) and accounts_resume() back on the loop,
 * where the continuation answers.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "../base/alloc.h"
#include "accounts_int.h"

const struct accounts_wait accounts_no_wait;

void accounts_wait_for(struct accounts_ctx *c, enum wait_op op, const char *encoded, accounts_then_fn then)
{
    struct accounts_wait *w = container_of(c, struct accounts_wait, c);
    w->op = op;
    w->then = then;
    snprintf(w->encoded, sizeof(w->encoded), "%s", encoded ? encoded : "");
    w->req = *c->req;
    snprintf(w->source, sizeof(w->source), "%s", c->req->source ? c->req->source : "");
    w->req.source = w->source;
    w->req.method = w->req.path = w->req.cookie = w->req.origin = w->req.fetch_site = w->req.host = NULL;
    w->req.body = NULL;
    w->req.method_len = w->req.path_len = w->req.cookie_len = w->req.origin_len = w->req.fetch_site_len = 0;
    w->req.body_len = 0;
    c->req = &w->req;
    c->out = NULL;
    c->waits = 1;
}

void accounts_wait_work(struct accounts_wait *w)
{
    const char *pw = w->c.body.password;
    size_t pl = strlen(pw);
    if (w->op == W_HASH)
        w->result = pwhash_hash(pw, pl, w->encoded, sizeof(w->encoded));
    else if (w->op == W_VERIFY)
        w->result = pwhash_verify(w->encoded, pw, pl);
    else
        w->result = pwhash_verify_dummy(pw, pl);
}

void accounts_wait_free(struct accounts_wait *w)
{
    if (!w)
        return;
    OPENSSL_cleanse(w, sizeof(*w));
    xfree(w);
}

void accounts_resume(struct accounts *a, struct accounts_wait *w, int64_t now_ms, struct accounts_response *out)
{
    w->c.a = a;
    w->c.out = out;
    w->req.now_ms = now_ms;
    accounts_reset_answer(out);
    w->then(&w->c, w);
    accounts_wait_free(w);
}
