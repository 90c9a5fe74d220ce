/* A thread that runs one task at a time (worker.h). */
#include "common/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>

enum { W_IDLE, W_TASK, W_STOP };

struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* one condition both ways: only the holder and the thread ever wait on it */
    atomic_int state;
    int sleeping; /* the thread waits on cv (under mu): a start must signal it */
    void (*fn)(void *);
    void *arg;
};

/*
 * How long a thread that finished a task keeps looking for the next before
 * it sleeps: a query hands its threads a task every few hundred
 * microseconds, and waking a sleeping thread on a virtual machine takes
 * tens of them.
 */
#define SPIN_ROUNDS 4000

static void pause_briefly(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_loop(void *p)
{
    worker *w = p;
    for (;;) {
        for (int i = 0; i < SPIN_ROUNDS && atomic_load_explicit(&w->state, memory_order_acquire) == W_IDLE; i++)
            pause_briefly();
        pthread_mutex_lock(&w->mu);
        while (atomic_load_explicit(&w->state, memory_order_relaxed) == W_IDLE) {
            w->sleeping = 1;
            pthread_cond_wait(&w->cv, &w->mu);
            w->sleeping = 0;
        }
        int state = atomic_load_explicit(&w->state, memory_order_relaxed);
        pthread_mutex_unlock(&w->mu);
        if (state == W_STOP) break;
        w->fn(w->arg);
        pthread_mutex_lock(&w->mu);
        atomic_store_explicit(&w->state, W_IDLE, memory_order_release);
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    return NULL;
}

int worker_new(worker **out)
{
    *out = NULL;
    worker *w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    atomic_init(&w->state, W_IDLE);
    /* The application's signal handlers must never run on a library's thread: it starts with all blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, worker_loop, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -rc;
    }
    *out = w;
    return 0;
}

void worker_free(worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    atomic_store_explicit(&w->state, W_STOP, memory_order_release);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void worker_start(worker *w, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&w->mu);
    w->fn = fn;
    w->arg = arg;
    atomic_store_explicit(&w->state, W_TASK, memory_order_release);
    if (w->sleeping) pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void worker_wait(worker *w)
{
    /* The task is most often about to end (the holder did its own share meanwhile): look before sleeping. */
    for (int i = 0; i < SPIN_ROUNDS && atomic_load_explicit(&w->state, memory_order_acquire) == W_TASK; i++)
        pause_briefly();
    if (atomic_load_explicit(&w->state, memory_order_acquire) != W_TASK) return;
    pthread_mutex_lock(&w->mu);
    while (atomic_load_explicit(&w->state, memory_order_relaxed) == W_TASK) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}
