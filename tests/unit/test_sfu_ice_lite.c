/*
 * test_sfu_ice_lite — ICE-lite checks and responses (src/sfu/ice_lite.c).
 *
 * Vectors: the RFC 5769 §2.1 request (ICE-CONTROLLED, so a lite agent
 * answers 487), and a real connectivity check Chromium 156 sent in a call
 * between two of its peer connections over loopback, with the real
 * success response the other side sent back: given the same transaction,
 * address and password, ice_lite_build_success() must produce those bytes
 * exactly. The round trip builds checks the way Chromium does when it is
 * the controlling agent (USERNAME, GOOG-NETWORK-INFO, ICE-CONTROLLING,
 * USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT), answers them,
 * and checks the answer with the STUN decoder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sfu/ice_lite.h"
#include "stun/stun.h"
#include "test_sfu_util.h"

static const char rfc_request[] =
    "00010058 2112a442 b7e7a701 bc34d686 fa87dfae"
    "80220010 5354554e 20746573 7420636c 69656e74"
    "00240004 6e0001ff"
    "80290008 932ff9b1 51263b36"
    "00060009 6576746a 3a683676 59202020"
    "00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2"
    "80280004 e57a3bcf";

/* Chromium's check "danl:u5eC" (it was the controlled side) ... */
static const char chrome_request[] =
    "0001004c 2112a442 43667472 78413446 474e572f"
    "00060009 64616e6c 3a753565 43000000"
    "c0570004 00020000"
    "80290008 ff39df2b 76d202b8"
    "00240004 6e7f32ff"
    "00080014 6454aae7 e272d79e 02ffcc17 c0b1f8cf 32d1bcb1"
    "80280004 4f156e1e";
/* ... and the answer from the agent whose ice-pwd is chrome_pwd. */
static const char chrome_response[] =
    "01010038 2112a442 43667472 78413446 474e572f"
    "00200014 00028d76 dc12a442 43667472 78413446 474e572d"
    "00080014 85f3345a fff21507 f65cdea5 3a6c1f22 c94188fb"
    "80280004 a73346af";
static const char chrome_pwd[] = "qBRBkwezLkIjB0E6tUxQSvdY";

static const char our_ufrag[] = "Xk3q", our_pwd[] = "8cK0tB6Hq1zAq9pYx2W3mN4v", their_ufrag[] = "Ab+/";

static struct stun_addr v4(uint8_t last, uint16_t port)
{
    struct stun_addr a = { .family = STUN_IPV4, .port = port, .ip = { 127, 0, 0, last } };
    return a;
}

struct check_opts {
    const char *user;
    const char *pwd;
    uint32_t priority;  /* 0: leave PRIORITY out */
    int use_candidate;
    int role;           /* 1 controlling, 2 controlled, 0 none */
    int no_fp;
    uint16_t extra;     /* an extra empty attribute of this type, 0 for none */
};

/* A check built as a browser builds it. */
static size_t make_check(uint8_t *buf, size_t cap, const struct check_opts *o, uint8_t txid_last)
{
    uint8_t txid[STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, txid_last };
    static const uint8_t netinfo[4] = { 0, 1, 0, 0x0a }, tie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct stun_builder b;
    stun_builder_init(&b, buf, cap, stun_type(STUN_BINDING, STUN_REQUEST), txid);
    if (o->user)
        stun_builder_add(&b, STUN_ATTR_USERNAME, o->user, strlen(o->user));
    stun_builder_add(&b, 0xC057, netinfo, 4);
    if (o->role)
        stun_builder_add(&b, o->role == 1 ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED, tie, 8);
    if (o->use_candidate)
        stun_builder_add(&b, STUN_ATTR_USE_CANDIDATE, "", 0);
    if (o->priority)
        stun_builder_add_u32(&b, STUN_ATTR_PRIORITY, o->priority);
    if (o->extra)
        stun_builder_add(&b, o->extra, "", 0);
    if (o->pwd)
        stun_builder_add_integrity(&b, (const uint8_t *)o->pwd, strlen(o->pwd));
    if (!o->no_fp)
        stun_builder_add_fingerprint(&b);
    int n = stun_builder_finish(&b);
    assert_true(n > 0);
    return (size_t)n;
}

static struct check_opts good(void)
{
    return (struct check_opts){ .user = "Xk3q:Ab+/", .pwd = our_pwd, .priority = 1853824767,
                                .use_candidate = 1, .role = 1 };
}

/* Runs one check through ice; returns the decoded response's type. */
static int run(struct ice_lite *ice, const uint8_t *req, size_t n, const struct stun_addr *from,
               uint64_t now, struct ice_result *res, struct stun_msg *out, uint8_t *resp)
{
    const uint8_t *p = guard_put(&test_guard, req, n);
    int len = ice_lite_handle(ice, p, n, from, now, resp, ICE_RESPONSE_MAX, res);
    assert_true(len >= 0);
    if (len == 0)
        return 0;
    assert_int_equal(stun_msg_decode(resp, (size_t)len, out), STUN_OK);
    assert_int_equal(stun_check_fingerprint(out), 0);
    return out->type;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct ice_lite ice;
    assert_int_equal(ice_lite_init(&ice, our_ufrag, our_pwd, their_ufrag), 0);
    uint8_t req[256], resp[ICE_RESPONSE_MAX];
    struct check_opts o = good();
    o.use_candidate = 0;
    size_t n = make_check(req, sizeof(req), &o, 1);
    struct stun_addr from = v4(2, 50000);
    struct ice_result res;
    struct stun_msg m;
    assert_int_equal(run(&ice, req, n, &from, 1000, &res, &m, resp), stun_type(STUN_BINDING, STUN_SUCCESS));
    assert_int_equal(res.verdict, ICE_SUCCESS);
    assert_int_equal(res.pair, 0);
    assert_false(res.use_candidate);
    assert_null(ice_lite_selected(&ice)); /* valid, not nominated */
    assert_memory_equal(m.txid, req + 8, STUN_TXID_LEN);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)our_pwd, strlen(our_pwd)), 0);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)"wrong", 5), -EACCES);
    struct stun_addr mapped;
    assert_int_equal(stun_msg_xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), 0);
    assert_int_equal(mapped.port, 50000);
    assert_memory_equal(mapped.ip, from.ip, 4);
    /* USE-CANDIDATE nominates and selects */
    o.use_candidate = 1;
    n = make_check(req, sizeof(req), &o, 2);
    run(&ice, req, n, &from, 2000, &res, &m, resp);
    assert_int_equal(res.verdict, ICE_SUCCESS);
    assert_true(res.use_candidate);
    assert_true(res.selected_changed);
    const struct ice_pair *sel = ice_lite_selected(&ice);
    assert_non_null(sel);
    assert_int_equal(sel->remote.port, 50000);
    assert_int_equal(sel->priority, 1853824767);
    assert_true(ice_lite_consent(&ice, 31000, 30000));
    assert_false(ice_lite_consent(&ice, 32001, 30000));
}

static void test_nomination_priority(void **state)
{
    (void)state;
    struct ice_lite ice;
    assert_int_equal(ice_lite_init(&ice, our_ufrag, our_pwd, their_ufrag), 0);
    uint8_t req[256], resp[ICE_RESPONSE_MAX];
    struct ice_result res;
    struct stun_msg m;
    struct check_opts o = good();
    struct stun_addr a = v4(2, 1000), b = v4(3, 2000), c = v4(4, 3000);
    o.priority = 100;
    size_t n = make_check(req, sizeof(req), &o, 1);
    run(&ice, req, n, &a, 1, &res, &m, resp);
    assert_true(res.selected_changed);
    o.priority = 200; /* a better pair nominated later wins */
    n = make_check(req, sizeof(req), &o, 2);
    run(&ice, req, n, &b, 2, &res, &m, resp);
    assert_true(res.selected_changed);
    assert_int_equal(ice_lite_selected(&ice)->remote.port, 2000);
    o.priority = 150; /* a worse one does not */
    n = make_check(req, sizeof(req), &o, 3);
    run(&ice, req, n, &c, 3, &res, &m, resp);
    assert_false(res.selected_changed);
    assert_int_equal(ice_lite_selected(&ice)->remote.port, 2000);
    assert_true(ice.pairs[res.pair].nominated);
}

static void test_pair_eviction(void **state)
{
    (void)state;
    struct ice_lite ice;
    assert_int_equal(ice_lite_init(&ice, our_ufrag, our_pwd, NULL), 0);
    uint8_t req[256], resp[ICE_RESPONSE_MAX];
    struct ice_result res;
    struct stun_msg m;
    struct check_opts o = good();
    size_t n = make_check(req, sizeof(req), &o, 1);
    struct stun_addr first = v4(1, 1);
    run(&ice, req, n, &first, 0, &res, &m, resp); /* selected: never evicted */
    o.use_candidate = 0;
    n = make_check(req, sizeof(req), &o, 2);
    for (uint16_t i = 2; i <= ICE_MAX_PAIRS + 3; i++) {
        struct stun_addr from = v4((uint8_t)i, i);
        run(&ice, req, n, &from, i, &res, &m, resp);
        assert_int_equal(res.verdict, ICE_SUCCESS);
    }
    assert_int_equal(ice_lite_selected(&ice)->remote.port, 1);
    int seen_first = 0;
    for (int i = 0; i < ICE_MAX_PAIRS; i++) {
        assert_true(ice.pairs[i].in_use);
        seen_first |= ice.pairs[i].remote.port == 1;
        assert_true(ice.pairs[i].remote.port == 1 || ice.pairs[i].remote.port > 4); /* 2-4 evicted */
    }
    assert_true(seen_first);
}

static void expect_error(struct ice_lite *ice, const struct check_opts *o, int code, int integrity)
{
    uint8_t req[256], resp[ICE_RESPONSE_MAX];
    size_t n = make_check(req, sizeof(req), o, 9);
    struct stun_addr from = v4(2, 4000);
    struct ice_result res;
    struct stun_msg m;
    assert_int_equal(run(ice, req, n, &from, 5, &res, &m, resp), stun_type(STUN_BINDING, STUN_ERROR));
    assert_int_equal(res.verdict, ICE_ERROR);
    assert_int_equal(res.error_code, code);
    int ec;
    struct stun_str reason;
    assert_int_equal(stun_msg_error_code(&m, &ec, &reason), 0);
    assert_int_equal(ec, code);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)our_pwd, strlen(our_pwd)), integrity ? 0 : -ENOENT);
    assert_null(ice_lite_selected(ice));
}

static void test_errors(void **state)
{
    (void)state;
    struct ice_lite ice;
    assert_int_equal(ice_lite_init(&ice, our_ufrag, our_pwd, their_ufrag), 0);
    struct check_opts o = good();
    o.user = NULL;
    expect_error(&ice, &o, 400, 0);
    o = good();
    o.pwd = NULL;
    expect_error(&ice, &o, 400, 0);
    o = good();
    o.no_fp = 1;
    expect_error(&ice, &o, 400, 0);
    o = good();
    o.user = "Xk3r:Ab+/";
    expect_error(&ice, &o, 401, 0);
    o.user = "Xk3q:Ab+X";
    expect_error(&ice, &o, 401, 0);
    o.user = "Xk3q";
    expect_error(&ice, &o, 401, 0);
    o = good();
    o.pwd = "not the password at all";
    expect_error(&ice, &o, 401, 0);
    o = good();
    o.extra = 0x0031; /* comprehension-required, unknown */
    expect_error(&ice, &o, 420, 1);
    o = good();
    o.priority = 0;
    expect_error(&ice, &o, 400, 1);
    o = good();
    o.role = 2;
    expect_error(&ice, &o, 487, 1);
    o.role = 0;
    expect_error(&ice, &o, 400, 1);
}

static void test_dropped(void **state)
{
    (void)state;
    struct ice_lite ice;
    assert_int_equal(ice_lite_init(&ice, our_ufrag, our_pwd, their_ufrag), 0);
    uint8_t req[256], resp[ICE_RESPONSE_MAX];
    struct check_opts o = good();
    size_t n = make_check(req, sizeof(req), &o, 1);
    struct stun_addr from = v4(2, 4000);
    struct ice_result res;
    req[n - 1] ^= 1; /* FINGERPRINT wrong */
    assert_int_equal(ice_lite_handle(&ice, req, n, &from, 0, resp, sizeof(resp), &res), 0);
    assert_int_equal(res.verdict, ICE_DROP);
    req[n - 1] ^= 1;
    req[1] = 0x11; /* a Binding indication */
    assert_int_equal(ice_lite_handle(&ice, req, n, &from, 0, resp, sizeof(resp), &res), 0);
    assert_int_equal(ice_lite_handle(&ice, (const uint8_t *)"\x80\x60", 2, &from, 0, resp, sizeof(resp), &res), 0);
    req[1] = 0x01;
    assert_int_equal(ice_lite_handle(&ice, req, n, &from, 0, resp, 40, &res), -ENOBUFS);
}

static void test_rfc5769_role_conflict(void **state)
{
    (void)state;
    uint8_t raw[256], resp[ICE_RESPONSE_MAX];
    size_t n = unhex(rfc_request, raw);
    struct ice_lite ice;
    assert_int_equal(ice_lite_init(&ice, "evtj", "VOkJxbRl1RmTxUk/WvJxBt", "h6vY"), 0);
    struct stun_addr from = v4(1, 32853);
    struct ice_result res;
    struct stun_msg m;
    run(&ice, raw, n, &from, 0, &res, &m, resp);
    assert_int_equal(res.error_code, 487);
    assert_int_equal(stun_check_integrity(&m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBt", 22), 0);
    struct stun_str u;
    assert_int_equal(ice_lite_ufrag(raw, n, &u), 0);
    assert_int_equal(u.len, 4);
    assert_memory_equal(u.p, "evtj", 4);
}

static void test_chromium_check(void **state)
{
    (void)state;
    uint8_t raw[256], want[256], resp[ICE_RESPONSE_MAX];
    size_t n = unhex(chrome_request, raw), wn = unhex(chrome_response, want);
    struct stun_str u;
    const uint8_t *p = guard_put(&test_guard, raw, n);
    assert_int_equal(ice_lite_ufrag(p, n, &u), 0);
    assert_int_equal(u.len, 4);
    assert_memory_equal(u.p, "danl", 4);
    /* Our answer to that check, for the address Chromium's peer saw. */
    struct stun_msg rq, rs;
    assert_int_equal(stun_msg_decode(raw, n, &rq), STUN_OK);
    assert_int_equal(stun_msg_decode(want, wn, &rs), STUN_OK);
    struct stun_addr mapped;
    assert_int_equal(stun_msg_xor_addr(&rs, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), 0);
    assert_int_equal(mapped.family, STUN_IPV6);
    assert_int_equal(mapped.port, 44132);
    int len = ice_lite_build_success(rq.txid, &mapped, chrome_pwd, strlen(chrome_pwd),
                                     STUN_ATTR_MESSAGE_INTEGRITY, resp, sizeof(resp));
    assert_int_equal(len, (int)wn);
    assert_memory_equal(resp, want, wn);
    /* As a lite agent we authenticate it, then refuse the role. */
    struct ice_lite ice;
    assert_int_equal(ice_lite_init(&ice, "danl", chrome_pwd, "u5eC"), 0);
    struct ice_result res;
    run(&ice, raw, n, &mapped, 0, &res, &rs, resp);
    assert_int_equal(res.error_code, 487);
    assert_int_equal(ice_lite_init(&ice, "danl", "a different password!!", "u5eC"), 0);
    run(&ice, raw, n, &mapped, 0, &res, &rs, resp);
    assert_int_equal(res.error_code, 401);
}

static void test_ufrag_fast_path(void **state)
{
    (void)state;
    uint8_t req[256];
    struct check_opts o = good();
    size_t n = make_check(req, sizeof(req), &o, 1);
    struct stun_str u;
    for (size_t len = 0; len < n; len++) /* every cut: no over-read, no answer */
        assert_int_equal(ice_lite_ufrag(guard_put(&test_guard, req, len), len, &u), -EINVAL);
    assert_int_equal(ice_lite_ufrag(guard_put(&test_guard, req, n), n, &u), 0);
    assert_memory_equal(u.p, "Xk3q", u.len);
    o.user = "nocolon";
    n = make_check(req, sizeof(req), &o, 1);
    assert_int_equal(ice_lite_ufrag(req, n, &u), -EINVAL);
    o.user = NULL;
    n = make_check(req, sizeof(req), &o, 1);
    assert_int_equal(ice_lite_ufrag(req, n, &u), -EINVAL);
}

static void test_init_limits(void **state)
{
    (void)state;
    struct ice_lite ice;
    char longer[ICE_UFRAG_MAX + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(ice_lite_init(&ice, "", our_pwd, NULL), -EINVAL);
    assert_int_equal(ice_lite_init(&ice, longer, our_pwd, NULL), -EINVAL);
    assert_int_equal(ice_lite_init(&ice, our_ufrag, NULL, NULL), -EINVAL);
    assert_int_equal(ice_lite_init(&ice, our_ufrag, our_pwd, NULL), 0);
    assert_int_equal(ice_lite_set_remote(&ice, longer), -EINVAL);
    assert_int_equal(ice_lite_set_remote(&ice, their_ufrag), 0);
    assert_false(ice_lite_consent(&ice, 0, 30000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_nomination_priority),
        cmocka_unit_test(test_pair_eviction),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_dropped),
        cmocka_unit_test(test_rfc5769_role_conflict),
        cmocka_unit_test(test_chromium_check),
        cmocka_unit_test(test_ufrag_fast_path),
        cmocka_unit_test(test_init_limits),
    };
    return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
