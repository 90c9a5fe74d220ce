/*
 * A thread that runs one task at a time for whoever holds it. The store
 * keeps a few (readers.c) so that a query can hand part of its blocks to
 * another core (query.c): starting a thread for each query would cost
 * about as much as the share it takes over on a small one.
 *
 * A worker is not shared: one holder starts a task and waits for it before
 * it starts another or gives the worker back.
 */
#ifndef ANPR_COMMON_WORKER_H
#define ANPR_COMMON_WORKER_H

typedef struct worker worker;

/* Start the thread (every signal blocked in it). 0, -ENOMEM, or pthread_create's error as -errno. */
int worker_new(worker **out);
/* Stop and join the thread of an idle worker, and free it. Accepts NULL. */
void worker_free(worker *w);
/* Run fn(arg) on the worker's thread; the worker must be idle. */
void worker_start(worker *w, void (*fn)(void *), void *arg);
/* Wait until the task started last has returned: the worker is idle again. */
void worker_wait(worker *w);

#endif
