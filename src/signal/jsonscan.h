/*
 * jsonscan — finds a top-level member in the text of a JSON object without
 * building a tree, so that a relayed message can be passed on as the sender
 * wrote it with only `target` cut out and `from` put in. Pure.
 */
#ifndef TINCAN_JSONSCAN_H
#define TINCAN_JSONSCAN_H

#include <stddef.h>

enum jsonscan_result {
    JSONSCAN_FOUND,
    JSONSCAN_ABSENT,
    JSONSCAN_ESCAPED,   /* a key uses escapes: the caller must decode it properly */
    JSONSCAN_BAD,       /* not an object this scanner understands */
};

/* Looks for the top-level member called key in text[0..len), which holds a
 * JSON object (already validated). On JSONSCAN_FOUND, [*start, *end) covers
 * the member and the comma that separates it from its neighbour, so that
 * cutting it leaves a valid object. */
enum jsonscan_result jsonscan_member(const char *text, size_t len, const char *key, size_t *start, size_t *end);

#endif
