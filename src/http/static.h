/*
 * static — the web client's files: the copy embedded in the binary at build
 * time (scripts/embed.py writes the table, with a gzip variant and an ETag
 * per file), or a directory on disk for client development (--web-root).
 */
#ifndef TINCAN_STATIC_H
#define TINCAN_STATIC_H

#include <stddef.h>
#include <stdint.h>

struct static_file {
    const char *path;          /* "/index.html" */
    const char *mime;
    const uint8_t *data;
    size_t len;
    const uint8_t *gz;         /* NULL when gzip would not help */
    size_t gz_len;
    const char *etag;          /* quoted */
    const char *gz_etag;       /* the gzip variant's own strong ETag */
    int no_cache;              /* index.html, sw.js: always revalidate */
};

/* The embedded table (generated). */
extern const struct static_file static_embedded[];
extern const size_t static_embedded_count;

/* Finds an embedded file by its URL path; NULL if none. */
const struct static_file *static_find(const char *path, size_t len);
/* MIME type for a file name, by extension. */
const char *static_mime(const char *name, size_t len);
/* Checks a URL path for serving from disk: starts with '/', no "..",
 * no NUL, backslash or empty segment, no percent-escapes. */
int static_path_safe(const char *path, size_t len);
#define STATIC_MAX_PATH 1024 /* longest URL path served from disk */

/* Opens the file rel (relative, no leading '/') read-only below the
 * directory dirfd and returns its descriptor (the caller closes it), or -1.
 * With use_openat2, openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS):
 * symlinks are followed only while they stay below dirfd (absolute ones are
 * refused). Without it, or where the kernel lacks openat2 (ENOSYS, or EPERM
 * from a seccomp filter), the path is walked one component at a time and
 * any symlink is refused. */
int static_open_beneath(int dirfd, const char *rel, int use_openat2);
/* Reads root + path into a new static_file (free with static_file_free).
 * Returns NULL if missing, unsafe or not a regular file. The path never
 * leaves root: see static_open_beneath(). */
struct static_file *static_load_disk(const char *root, const char *path, size_t len);
/* Frees a file from static_load_disk(). */
void static_file_free(struct static_file *f);

#endif
