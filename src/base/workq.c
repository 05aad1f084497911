/*
 * workq — worker threads with completions on the loop (see workq.h).
 *
 * Two singly linked FIFOs under one mutex: todo (submitted, not started)
 * and finished (work ran, done not yet called). A worker that finishes a
 * job appends it to finished and writes the eventfd; the loop's handler
 * drains the eventfd, takes the whole finished list under the lock and runs
 * each done outside it, so a done may submit again.
 */
#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloc.h"
#include "loop.h"

#define THREADS_MAX 8

struct fifo {
    struct workq_job *head, *tail;
};

struct workq {
    struct loop *loop;
    struct loop_io io;
    int efd;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct fifo todo, finished;
    int stopping;
    unsigned pending, max_jobs, nthreads;
    pthread_t threads[THREADS_MAX];
};

static void fifo_push(struct fifo *f, struct workq_job *j)
{
    j->next = NULL;
    if (f->tail)
        f->tail->next = j;
    else
        f->head = j;
    f->tail = j;
}

static struct workq_job *fifo_pop(struct fifo *f)
{
    struct workq_job *j = f->head;
    if (j) {
        f->head = j->next;
        if (!f->head)
            f->tail = NULL;
    }
    return j;
}

static void *worker(void *arg)
{
    struct workq *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stopping && !q->todo.head)
            pthread_cond_wait(&q->wake, &q->lock);
        if (q->stopping)
            break;
        struct workq_job *j = fifo_pop(&q->todo);
        pthread_mutex_unlock(&q->lock);
        j->work(j);
        pthread_mutex_lock(&q->lock);
        fifo_push(&q->finished, j);
        uint64_t one = 1;
        /* A full eventfd counter still wakes the loop: an error is harmless. */
        ssize_t w = write(q->efd, &one, sizeof(one));
        (void)w;
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* Runs done for every job of list (outside the lock). */
static void deliver(struct workq *q, struct workq_job *j)
{
    while (j) {
        struct workq_job *next = j->next;
        q->pending--;
        j->done(j);
        j = next;
    }
}

static void on_event(struct loop *loop, struct loop_io *io, unsigned events)
{
    (void)loop;
    (void)events;
    struct workq *q = container_of(io, struct workq, io);
    uint64_t n;
    if (read(q->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&q->lock);
    struct workq_job *list = q->finished.head;
    q->finished.head = q->finished.tail = NULL;
    pthread_mutex_unlock(&q->lock);
    deliver(q, list);
}

struct workq *workq_new(struct loop *loop, unsigned threads, unsigned max_jobs)
{
    struct workq *q = xcalloc(1, sizeof(*q));
    q->loop = loop;
    q->max_jobs = max_jobs;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    int rc = q->efd < 0 ? -errno : loop_io_add(loop, &q->io, q->efd, LOOP_READ, on_event);
    if (rc < 0) {
        int e = -rc;
        workq_free(q);
        errno = e;
        return NULL;
    }
    threads = threads < 1 ? 1 : threads > THREADS_MAX ? THREADS_MAX : threads;
    for (; q->nthreads < threads; q->nthreads++) {
        int e = pthread_create(&q->threads[q->nthreads], NULL, worker, q);
        if (e != 0) {
            workq_free(q);
            errno = e;
            return NULL;
        }
    }
    return q;
}

void workq_free(struct workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = 1;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    for (unsigned i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    for (struct workq_job *j = q->todo.head; j; j = j->next)
        j->cancelled = 1;
    deliver(q, q->finished.head);
    deliver(q, q->todo.head);
    if (q->efd >= 0) {
        if (q->io.mask)
            loop_io_del(q->loop, &q->io);
        close(q->efd);
    }
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    xfree(q);
}

int workq_submit(struct workq *q, struct workq_job *job)
{
    if (q->pending >= q->max_jobs)
        return -1;
    job->cancelled = 0;
    q->pending++;
    pthread_mutex_lock(&q->lock);
    fifo_push(&q->todo, job);
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

unsigned workq_pending(const struct workq *q)
{
    return q->pending;
}
