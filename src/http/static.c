/*
 * static — embedded and on-disk web files (see static.h).
 */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/alloc.h"

#define DISK_MAX_FILE (16u << 20)

const struct static_file *static_find(const char *path, size_t len)
{
    for (size_t i = 0; i < static_embedded_count; i++) {
        const struct static_file *f = &static_embedded[i];
        if (strlen(f->path) == len && memcmp(f->path, path, len) == 0)
            return f;
    }
    return NULL;
}

struct mime {
    const char *ext;
    const char *type;
};

static const struct mime mimes[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".webmanifest", "application/manifest+json" },
    { ".png", "image/png" },
    { ".svg", "image/svg+xml" },
    { ".ico", "image/x-icon" },
    { ".jpg", "image/jpeg" },
    { ".webp", "image/webp" },
    { ".wasm", "application/wasm" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".mp3", "audio/mpeg" },
    { ".ogg", "audio/ogg" },
    { ".wav", "audio/wav" },
};

const char *static_mime(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++) {
        size_t el = strlen(mimes[i].ext);
        if (len >= el && memcmp(name + len - el, mimes[i].ext, el) == 0)
            return mimes[i].type;
    }
    return "application/octet-stream";
}

int static_path_safe(const char *path, size_t len)
{
    if (len == 0 || path[0] != '/' || len > STATIC_MAX_PATH)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = path[i];
        if (c == '\0' || c == '\\' || c == '%')
            return 0;
        if (c == '/' && i + 1 < len && path[i + 1] == '/')
            return 0;
        if (c == '/' && i + 1 < len && path[i + 1] == '.')
            return 0; /* "..", and hidden files */
    }
    return 1;
}

static uint8_t *read_file(int fd, size_t size)
{
    uint8_t *data = xmalloc(size ? size : 1);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r <= 0) {
            xfree(data);
            return NULL;
        }
        got += (size_t)r;
    }
    return data;
}

static int bad_component(const char *p, size_t n)
{
    return n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
}

/* Opens rel below dirfd one component at a time, refusing every symlink
 * (O_NOFOLLOW on each step) and every "." or "..": the fallback for kernels
 * without openat2. */
static int open_walk(int dirfd, const char *rel)
{
    char part[STATIC_MAX_PATH + 1];
    int cur = dirfd;
    for (;;) {
        const char *slash = strchr(rel, '/');
        size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
        if (bad_component(rel, n)) {
            if (cur != dirfd)
                close(cur);
            return -1;
        }
        if (!slash) {
            int fd = openat(cur, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
            if (cur != dirfd)
                close(cur);
            return fd;
        }
        memcpy(part, rel, n);
        part[n] = '\0';
        int next = openat(cur, part, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (cur != dirfd)
            close(cur);
        if (next < 0)
            return -1;
        cur = next;
        rel = slash + 1;
    }
}

int static_open_beneath(int dirfd, const char *rel, int use_openat2)
{
    if (strlen(rel) > STATIC_MAX_PATH || rel[0] == '/' || rel[0] == '\0')
        return -1;
    if (use_openat2) {
        struct open_how how = {
            .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return (int)fd;
    }
    return open_walk(dirfd, rel);
}

struct static_file *static_load_disk(const char *root, const char *path, size_t len)
{
    if (!static_path_safe(path, len))
        return NULL;
    char rel[STATIC_MAX_PATH + 1];
    memcpy(rel, path + 1, len - 1);
    rel[len - 1] = '\0';
    int dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return NULL;
    int fd = static_open_beneath(dirfd, rel, 1);
    close(dirfd);
    if (fd < 0)
        return NULL;
    struct stat st;
    struct static_file *f = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= DISK_MAX_FILE) {
        uint8_t *data = read_file(fd, (size_t)st.st_size);
        if (data) {
            f = xcalloc(1, sizeof(*f));
            char *etag = xmalloc(64);
            snprintf(etag, 64, "\"%lx-%lx-%lx\"", (unsigned long)st.st_ino, (unsigned long)st.st_size,
                     (unsigned long)st.st_mtime);
            f->path = xstrdup(path);
            f->mime = static_mime(path, len);
            f->data = data;
            f->len = (size_t)st.st_size;
            f->etag = etag;
            f->no_cache = 1;
        }
    }
    close(fd);
    return f;
}

void static_file_free(struct static_file *f)
{
    if (!f)
        return;
    xfree((void *)f->path);
    xfree((void *)f->data);
    xfree((void *)f->etag);
    xfree(f);
}
