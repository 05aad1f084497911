/*
 * accounts_answer — how the accounts API answers (see accounts_int.h): a
 * status with a compact JSON body, {"error":code} for a refusal, 429 with
 * its Retry-After, and the JSON of a user and of a team room. The glue
 * (src/server/accounts_glue.c) turns a struct accounts_response into HTTP.
 */
#include <stdio.h>

#include "accounts_int.h"

void accounts_answer(struct accounts_response *out, int status, json_t *j)
{
    out->status = status;
    out->body_len = j ? json_dumpb(j, out->body, sizeof(out->body), JSON_COMPACT) : 0;
    json_decref(j);
    if (j && out->body_len == 0)
        accounts_error(out, 500, "internal");
}

void accounts_error(struct accounts_response *out, int status, const char *code)
{
    out->status = status;
    int n = snprintf(out->body, sizeof(out->body), "{\"error\":\"%s\"}", code);
    out->body_len = n > 0 ? (size_t)n : 0;
}

void accounts_store_error(struct accounts_response *out, enum store_status res)
{
    if (res == STORE_NOT_FOUND)
        accounts_error(out, 404, "not_found");
    else
        accounts_error(out, 500, "internal");
}

void accounts_limited(struct accounts_response *out, uint64_t wait_ms)
{
    accounts_error(out, 429, "rate_limited");
    out->retry_after_s = (wait_ms + 999) / 1000;
}

void accounts_reset_answer(struct accounts_response *out)
{
    out->set_cookie[0] = '\0';
    out->retry_after_s = 0;
    out->allow = NULL;
}

json_t *accounts_user_json(const struct users_user *u)
{
    return json_pack("{s:I,s:s,s:b}", "id", (json_int_t)u->id, "name", u->name, "admin", u->admin);
}

json_t *accounts_room_json(const struct users_room *r, const struct users_user *viewer)
{
    int manage = viewer->admin || viewer->id == r->owner_id;
    return json_pack("{s:s,s:s,s:s,s:b,s:I,s:b}", "id", r->id, "name", r->name, "owner", r->owner, "has_password",
                     r->pwhash[0] != 0, "created", (json_int_t)r->created_ms, "can_manage", manage);
}
