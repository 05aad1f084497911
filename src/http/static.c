/*
 * static — embedded and on-disk web files (see static.h).
 */
#include "static.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    if (len == 0 || path[0] != '/' || len > 1024)
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

struct static_file *static_load_disk(const char *root, const char *path, size_t len)
{
    if (!static_path_safe(path, len))
        return NULL;
    char full[4096];
    if ((size_t)snprintf(full, sizeof(full), "%s%.*s", root, (int)len, path) >= sizeof(full))
        return NULL;
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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
