/*
 * fuzz_sfu_ice — libFuzzer target for the ICE-lite check handler and the
 * demultiplexer's ufrag fast path (src/sfu/ice_lite.c).
 *
 * The input is one datagram in a heap block of exactly its size, answered
 * by a session with ufrag "fUzZ", password "fuzz-password-0123456789" and
 * peer ufrag "peer". Besides "no crash" it checks:
 *  - the returned length matches the verdict, and every response decodes,
 *    carries the request's transaction id and a right FINGERPRINT;
 *  - success and post-authentication errors carry integrity keyed with our
 *    password, pre-authentication errors none;
 *  - a success happens only for a request that passes integrity with our
 *    password, and then the fast path found our ufrag in it;
 *  - the selected pair, if any, is nominated and in use.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/ice_lite.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static const char pwd[] = "fuzz-password-0123456789";

static void check_response(const uint8_t *req, const uint8_t *resp, int n, const struct ice_result *res)
{
    struct stun_msg m;
    CHECK(stun_msg_decode(resp, (size_t)n, &m) == STUN_OK);
    CHECK(memcmp(m.txid, req + 8, STUN_TXID_LEN) == 0);
    CHECK(stun_check_fingerprint(&m) == 0);
    int integ = stun_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd));
    if (res->verdict == ICE_SUCCESS) {
        CHECK(m.type == stun_type(STUN_BINDING, STUN_SUCCESS) && integ == 0);
        CHECK(res->pair >= 0 && res->pair < ICE_MAX_PAIRS);
    } else {
        CHECK(m.type == stun_type(STUN_BINDING, STUN_ERROR));
        int pre_auth = res->error_code == 400 || res->error_code == 401;
        CHECK(integ == 0 || (pre_auth && integ == -ENOENT));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct ice_lite ice;
    CHECK(ice_lite_init(&ice, "fUzZ", pwd, size % 2 ? "peer" : NULL) == 0);
    struct stun_str u;
    int fast = ice_lite_ufrag(buf, size, &u);
    CHECK(fast == 0 || fast == -EINVAL);
    if (fast == 0)
        CHECK(u.p >= buf + STUN_HEADER_LEN && u.p + u.len < buf + size);
    struct stun_addr from = { .family = STUN_IPV4, .port = 9, .ip = { 127, 0, 0, 1 } };
    uint8_t resp[ICE_RESPONSE_MAX];
    struct ice_result res;
    int n = ice_lite_handle(&ice, buf, size, &from, 1, resp, sizeof(resp), &res);
    CHECK(n >= 0);
    CHECK((n == 0) == (res.verdict == ICE_DROP));
    if (n > 0)
        check_response(buf, resp, n, &res);
    if (res.verdict == ICE_SUCCESS) {
        struct stun_msg m;
        CHECK(stun_msg_decode(buf, size, &m) == STUN_OK);
        CHECK(stun_check_integrity(&m, (const uint8_t *)pwd, strlen(pwd)) == 0);
        CHECK(fast == 0 && u.len == 4 && memcmp(u.p, "fUzZ", 4) == 0);
    }
    const struct ice_pair *sel = ice_lite_selected(&ice);
    if (sel)
        CHECK(sel->in_use && sel->nominated && res.use_candidate);
    free(buf);
    return 0;
}
