/*
 * workq — a few worker threads for CPU-heavy work that must not hold up the
 * event loop (argon2id password hashes), with completions handed back to
 * the loop through an eventfd.
 *
 * The loop thread submits a job; a worker runs job->work (which may only
 * touch the job's own memory: no allocation wrapper counters, no loop, no
 * store); then the loop thread runs job->done. Jobs finish in any order.
 * The queue holds at most max_jobs at once (waiting, running or finished
 * but not yet delivered), so a flood of requests costs bounded memory and
 * a submit beyond it is refused at once.
 */
#ifndef TINCAN_WORKQ_H
#define TINCAN_WORKQ_H

struct loop;
struct workq;
struct workq_job;

typedef void (*workq_fn)(struct workq_job *job);

struct workq_job {
    struct workq_job *next;     /* owned by the queue while submitted */
    workq_fn work;              /* on a worker thread */
    workq_fn done;              /* on the loop thread, after work */
    int cancelled;              /* workq_free ran before work: done sees 1 */
};

/* Starts threads workers on loop. Returns NULL (errno set) if the eventfd
 * or a thread cannot be made. */
struct workq *workq_new(struct loop *loop, unsigned threads, unsigned max_jobs);
/* Stops the workers after the job each is running, then runs done for every
 * job not delivered yet (cancelled = 1 for those whose work never ran) and
 * frees the queue. NULL is fine. Loop thread only. */
void workq_free(struct workq *q);
/* Queues job (work and done set; the caller owns its memory until done
 * runs). Returns 0, or -1 when max_jobs are in the queue. Loop thread only. */
int workq_submit(struct workq *q, struct workq_job *job);
/* Jobs in the queue now (waiting, running or not yet delivered). */
unsigned workq_pending(const struct workq *q);

#endif
