/*
 * test_workq — the worker threads of src/base/workq.c: every job's work
 * runs off the loop thread and its done on it, a full queue refuses, and
 * freeing the queue delivers what is left with the jobs that never ran
 * marked cancelled.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/loop.h"
#include "base/workq.h"

#define NJOBS 16

struct job {
    struct workq_job j;
    pthread_t worker;
    int value, squared, done;
};

static pthread_t loop_thread;
static int delivered;
static struct loop *the_loop;

static void work(struct workq_job *wj)
{
    struct job *x = container_of(wj, struct job, j);
    x->worker = pthread_self();
    x->squared = x->value * x->value;
}

static void done(struct workq_job *wj)
{
    struct job *x = container_of(wj, struct job, j);
    assert_true(pthread_equal(pthread_self(), loop_thread));
    x->done++;
    if (++delivered == NJOBS)
        loop_stop(the_loop);
}

static void guard(struct loop *loop, struct loop_timer *t)
{
    (void)t;
    loop_stop(loop);
}

static void test_jobs_run_off_the_loop(void **state)
{
    (void)state;
    loop_thread = pthread_self();
    delivered = 0;
    the_loop = loop_new();
    struct workq *q = workq_new(the_loop, 2, NJOBS);
    assert_non_null(q);
    struct job jobs[NJOBS + 1];
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < NJOBS; i++) {
        jobs[i] = (struct job){ .j = { .work = work, .done = done }, .value = i };
        assert_int_equal(workq_submit(q, &jobs[i].j), 0);
    }
    jobs[NJOBS] = (struct job){ .j = { .work = work, .done = done } };
    assert_int_equal(workq_submit(q, &jobs[NJOBS].j), -1); /* full */
    struct loop_timer t = { 0 };
    loop_timer_start(the_loop, &t, 10000, guard);
    loop_run(the_loop);
    loop_timer_stop(the_loop, &t);
    assert_int_equal(delivered, NJOBS);
    assert_int_equal(workq_pending(q), 0);
    for (int i = 0; i < NJOBS; i++) {
        assert_int_equal(jobs[i].done, 1);
        assert_int_equal(jobs[i].squared, i * i);
        assert_false(pthread_equal(jobs[i].worker, loop_thread));
        assert_int_equal(jobs[i].j.cancelled, 0);
    }
    assert_int_equal(jobs[NJOBS].done, 0);
    workq_free(q);
    loop_free(the_loop);
}

static void count_done(struct workq_job *wj)
{
    container_of(wj, struct job, j)->done++;
    delivered++;
}

static void test_free_delivers_the_rest(void **state)
{
    (void)state;
    delivered = 0;
    struct loop *loop = loop_new();
    struct workq *q = workq_new(loop, 1, NJOBS);
    struct job jobs[NJOBS];
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < NJOBS; i++) {
        jobs[i] = (struct job){ .j = { .work = work, .done = count_done }, .value = i };
        assert_int_equal(workq_submit(q, &jobs[i].j), 0);
    }
    workq_free(q); /* without running the loop: nothing was delivered yet */
    assert_int_equal(delivered, NJOBS);
    for (int i = 0; i < NJOBS; i++) {
        assert_int_equal(jobs[i].done, 1);
        /* a job either ran (its result is there) or is marked cancelled */
        assert_true(jobs[i].j.cancelled || jobs[i].squared == i * i);
    }
    workq_free(NULL);
    loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_run_off_the_loop),
        cmocka_unit_test(test_free_delivers_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
