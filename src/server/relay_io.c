/*
 * relay_io — own addresses and relay sockets for TURN (see relay_io.h).
 */
#include "relay_io.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/log.h"

/* Adds text (an address, or NULL) to p's own addresses. */
static int add_text(struct turn_policy *p, const char *text)
{
    struct stun_addr a;
    memset(&a, 0, sizeof(a));
    if (!text)
        return 0;
    if (inet_pton(AF_INET, text, a.ip) == 1)
        a.family = STUN_IPV4;
    else if (inet_pton(AF_INET6, text, a.ip) == 1)
        a.family = STUN_IPV6;
    else
        return 0; /* a name, or the wildcard spelled otherwise: conf checked it */
    return policy_add_local(p, &a);
}

int relay_io_local_addrs(struct turn_policy *p, const struct conf *conf)
{
    p->main_port = (uint16_t)conf->port;
    if (add_text(p, conf->bind) < 0 || add_text(p, conf->external_ip) < 0 || add_text(p, conf->relay_ip) < 0)
        goto full;
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) < 0) {
        log_warn("getifaddrs_failed", "note=\"TURN knows only the configured own addresses\"");
        return 0;
    }
    int rc = 0;
    for (struct ifaddrs *i = ifs; i && rc == 0; i = i->ifa_next) {
        struct stun_addr a;
        if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6) &&
            stun_addr_from_sockaddr(&a, i->ifa_addr) == 0)
            rc = policy_add_local(p, &a);
    }
    freeifaddrs(ifs);
    if (rc == 0)
        return 0;
full:
    log_error("turn_failed", "error=\"more than %d local addresses\"", POLICY_MAX_LOCAL);
    return -1;
}
