/*
 * fuzz_sfu_sdp — libFuzzer target for SDP parsing, answering and writing
 * (src/sfu/sdp.c, sdp_write.c).
 *
 * The input is one description in a heap block of exactly its size (not
 * NUL-terminated), so AddressSanitizer catches a read past the end.
 * Besides "no crash" it checks: counts stay within capacity and every
 * string field is terminated; an answer, when there is one, only uses
 * payload types and extension ids the offer had; the written answer
 * parses back with the same m-sections, mids, codecs and directions, and
 * the a=setup it was written with (passive, or actpass as in our offers).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/sdp.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_struct(const struct sdp *s)
{
    CHECK(s->nmedia <= SDP_MAX_MEDIA && s->nbundle <= SDP_MAX_BUNDLE);
    for (size_t i = 0; i < s->nmedia; i++) {
        const struct sdp_media *m = &s->media[i];
        CHECK(m->ncodecs <= SDP_MAX_CODECS && m->nextmaps <= SDP_MAX_EXTMAPS);
        CHECK(m->nssrcs <= SDP_MAX_SSRCS && m->nrids <= SDP_MAX_RIDS && m->nsim <= 3);
        CHECK(memchr(m->mid, 0, sizeof(m->mid)) && memchr(m->fp, 0, sizeof(m->fp)));
        for (size_t j = 0; j < m->ncodecs; j++)
            CHECK(m->codecs[j].pt < 128 && memchr(m->codecs[j].fmtp, 0, SDP_FMTP_MAX));
    }
}

static void check_answer(const struct sdp *offer, const struct sdp *ans)
{
    CHECK(ans->nmedia == offer->nmedia);
    for (size_t i = 0; i < ans->nmedia; i++) {
        const struct sdp_media *a = &ans->media[i], *o = &offer->media[i];
        CHECK(strcmp(a->mid, o->mid) == 0);
        for (size_t j = 0; j < a->ncodecs; j++)
            CHECK(sdp_codec_by_pt(o, a->codecs[j].pt) != NULL);
        for (size_t j = 0; j < a->nextmaps; j++)
            CHECK(sdp_extmap_id(o, a->extmaps[j].uri) == a->extmaps[j].id);
    }
}

/* Writes ans as an answer (setup passive) or, as our subscriber offers
 * are, with setup actpass, and parses it back. */
static void check_written(const struct sdp *ans, enum sdp_setup setup)
{
    static const struct sdp_candidate c = { "192.0.2.1", 443, 2130706431 };
    const struct sdp_local l = { "ufrag", "passwordpasswordpassword", "AA:BB", &c, 1, 1, setup };
    enum sdp_setup want = setup == SDP_SETUP_ACTPASS ? SDP_SETUP_ACTPASS : SDP_SETUP_PASSIVE;
    static char text[1 << 20];
    static struct sdp back;
    int n = sdp_write(ans, &l, text, sizeof(text));
    CHECK(n > 0);
    int rc = sdp_parse(text, (size_t)n, &back);
    /* an offered mid with spaces or a duplicate cannot come back the same */
    if (rc != 0)
        return;
    CHECK(back.nmedia == ans->nmedia);
    for (size_t i = 0; i < ans->nmedia; i++) {
        const struct sdp_media *a = &ans->media[i], *b = &back.media[i];
        CHECK(a->port == b->port && strcmp(a->mid, b->mid) == 0);
        /* A rejected section keeps one placeholder format (RFC 8866 needs
         * one), which reads back as a codec: only accepted ones compare. */
        if (a->port)
            CHECK(a->ncodecs == b->ncodecs && a->dir == b->dir && b->setup == want);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp offer, ans;
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    int rc = sdp_parse(buf, size, &offer);
    CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG);
    CHECK((rc == 0) == (offer.err_line == 0));
    if (rc == 0) {
        check_struct(&offer);
        if (sdp_answer(&offer, NULL, 0, &ans) == 0) {
            check_struct(&ans);
            check_answer(&offer, &ans);
            check_written(&ans, size % 2 ? SDP_SETUP_ACTPASS : SDP_SETUP_PASSIVE);
        }
    }
    free(buf);
    return 0;
}
