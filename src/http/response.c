/*
 * response — HTTP/1.1 response heads (see response.h).
 *
 * The security headers keep the web client to its own origin: scripts,
 * styles, media and connections only from self (WebSocket to the same host),
 * no framing, no referrer, camera/microphone/screen capture only for self.
 */
#include "response.h"

#include <stdio.h>
#include <string.h>

struct reason {
    int status;
    const char *text;
};

static const struct reason reasons[] = {
    { 101, "Switching Protocols" }, { 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
    { 304, "Not Modified" }, { 308, "Permanent Redirect" }, { 400, "Bad Request" },
    { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
    { 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 409, "Conflict" },
    { 411, "Length Required" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
    { 426, "Upgrade Required" }, { 429, "Too Many Requests" },
    { 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
    { 501, "Not Implemented" }, { 503, "Service Unavailable" }, { 505, "HTTP Version Not Supported" },
};

const char *http_reason(int status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].status == status)
            return reasons[i].text;
    }
    return "Unknown";
}

int http_host_safe(const char *host, size_t len)
{
    if (len == 0 || len > 255)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok)
            return 0;
    }
    return 1;
}

size_t http_response_head(char *out, size_t cap, const struct http_response *r)
{
    char wss[300] = "";
    if (r->host && http_host_safe(r->host, strlen(r->host)))
        snprintf(wss, sizeof(wss), " wss://%s", r->host);
    /* 1xx, 204 and 304 carry no body and no Content-Length. */
    char length[40] = "";
    if (r->status >= 200 && r->status != 204 && r->status != 304)
        snprintf(length, sizeof(length), "Content-Length: %llu\r\n", (unsigned long long)r->content_length);
    int n = snprintf(out, cap,
        "HTTP/1.1 %d %s\r\n"
        "Server: tincan\r\n"
        "%s%s%s"
        "%s"
        "%s%s%s" "%s%s%s" "%s%s%s" "%s"
        "Connection: %s\r\n"
        "Strict-Transport-Security: max-age=31536000\r\n"
        "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'%s; "
        "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "X-Frame-Options: DENY\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "Permissions-Policy: camera=(self), microphone=(self), display-capture=(self)\r\n"
        "%s"
        "\r\n",
        r->status, http_reason(r->status),
        r->content_type ? "Content-Type: " : "", r->content_type ? r->content_type : "", r->content_type ? "\r\n" : "",
        length,
        r->etag ? "ETag: " : "", r->etag ? r->etag : "", r->etag ? "\r\n" : "",
        r->cache_control ? "Cache-Control: " : "", r->cache_control ? r->cache_control : "", r->cache_control ? "\r\n" : "",
        r->content_encoding ? "Content-Encoding: " : "", r->content_encoding ? r->content_encoding : "", r->content_encoding ? "\r\n" : "",
        r->vary_accept_encoding ? "Vary: Accept-Encoding\r\n" : "",
        r->keep_alive ? "keep-alive" : "close",
        wss,
        r->extra ? r->extra : "");
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}
