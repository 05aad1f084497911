/*
 * acme_glue — automatic certificates for the server: runs the ACME client
 * (src/acme) on a worker thread, swaps the new certificate in without a
 * restart, renews before expiry, retries failures with backoff, and owns
 * the plain HTTP port (--http-port) that answers HTTP-01 and redirects
 * everything else to https.
 *
 * The worker thread only talks to the CA and writes files; it reports back
 * through an eventfd watched by the loop, and every server state change
 * happens on the loop thread. Challenges are shared through src/acme/chall.h.
 */
#ifndef TINCAN_ACME_GLUE_H
#define TINCAN_ACME_GLUE_H

#include <stddef.h>

struct server;
struct client;
struct http_request;

/* True if the settings ask for ACME (--domain without --cert). */
int acme_glue_enabled(const struct server *s);
/* Prepares <data-dir>/acme and, with ACME on, s->acme. Call before the
 * first server_load_tls(). Returns 0, or -1 after logging why. */
int acme_glue_init(struct server *s);
/* Starts the renewal timer and the --http-port listener. Call once the main
 * listener is up. Returns 0, or -1 after logging why. */
int acme_glue_start(struct server *s);
/* Writes the stored ACME certificate's paths (one file: key and chain) if
 * it is usable now (covers the first --domain, not expired). Returns 0, or -1 (serve the self-signed one). */
int acme_glue_cert_paths(struct server *s, char *cert, char *key, size_t len);
struct acme_glue_stats {
    long long cert_not_after_s;   /* the stored ACME certificate's notAfter, 0 if none */
    long long last_success_s;     /* when an order last succeeded, 0 if never (since start) */
    unsigned long long failures;  /* orders that failed since start */
};
/* For /metrics: all zero when ACME is off. */
void acme_glue_stats(const struct server *s, struct acme_glue_stats *out);
/* Starts a renewal now, whatever the expiry (SIGUSR1). */
void acme_glue_force_renew(struct server *s);
/* Answers a plain-HTTP request if it is an HTTP-01 challenge, or came in on
 * --http-port (then a redirect to https). Returns 1 if answered, 0 if the
 * caller should handle it. */
int acme_glue_http(struct client *c, const struct http_request *req, const char *host);
/* Stops the worker (aborting its request), closes the HTTP port. */
void acme_glue_cleanup(struct server *s);

#endif
