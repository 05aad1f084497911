/*
 * loop_epoll — the Linux epoll backend of the event loop (level-triggered).
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "alloc.h"
#include "loop.h"

#define MAX_EVENTS 256

struct loop_backend {
    int epfd;
    struct epoll_event events[MAX_EVENTS];
};

struct loop_backend *loop_backend_new(void)
{
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct loop_backend *b = xcalloc(1, sizeof(*b));
    b->epfd = fd;
    return b;
}

void loop_backend_free(struct loop_backend *b)
{
    if (!b)
        return;
    close(b->epfd);
    xfree(b);
}

int loop_backend_ctl(struct loop_backend *b, struct loop_io *io, enum loop_ctl op, unsigned mask)
{
    static const int ops[] = { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL };
    struct epoll_event ev = { 0 };
    ev.data.ptr = io;
    if (mask & LOOP_READ)
        ev.events |= EPOLLIN | EPOLLRDHUP;
    if (mask & LOOP_WRITE)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(b->epfd, ops[op], io->fd, &ev) < 0)
        return -errno;
    return 0;
}

int loop_backend_poll(struct loop_backend *b, struct loop *loop, int timeout_ms)
{
    int n = epoll_wait(b->epfd, b->events, MAX_EVENTS, timeout_ms);
    if (n < 0)
        return -errno;
    loop_touch(loop); /* handlers must see the time after the wait, not before it */
    for (int i = 0; i < n; i++) {
        struct loop_io *io = b->events[i].data.ptr;
        unsigned ev = 0;
        if (b->events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            ev |= LOOP_READ;
        if (b->events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            ev |= LOOP_WRITE;
        if (io->fn)
            io->fn(loop, io, ev);
    }
    return n;
}
