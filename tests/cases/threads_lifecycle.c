/* threads_lifecycle: thread create/join churn (500 threads, 4 at a time), detached threads,
 * a robust mutex whose owner exits holding it (EOWNERDEAD for the next locker), thread-local storage
 * (__thread, and pthread keys with destructors), pthread_once and a condition variable.
 * A heap block reachable only from a blocked worker's stack must not be reported as a leak
 * when main exits while that worker still waits. Natively prints the same lines every run. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static __thread long tls_counter = 7;
static pthread_key_t key;
static int destructor_calls;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int detached_done;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;

static void destructor(void *value)
{
    pthread_mutex_lock(&lock);
    destructor_calls++;
    pthread_mutex_unlock(&lock);
    free(value);
}

static void run_once(void) { once_runs++; }

static void *churn(void *arg)
{
    pthread_once(&once, run_once);
    tls_counter += (long)arg;
    pthread_setspecific(key, malloc(8));
    return (void *)tls_counter;
}

static void *detached(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    detached_done++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static pthread_mutex_t robust;

static void *dies_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL;   /* exits with the mutex held */
}

static void *holder(void *arg)
{
    volatile char *kept = malloc(100);   /* only this thread's stack points at it */
    kept[0] = 1;
    *(volatile int *)arg = 1;
    for (;;) pause();
    return (void *)kept;
}

int main(void)
{
    pthread_key_create(&key, destructor);
    long sum = 0;
    for (int i = 0; i < 500; i += 4) {
        pthread_t t[4];
        for (long k = 0; k < 4; k++) pthread_create(&t[k], NULL, churn, (void *)k);
        for (int k = 0; k < 4; k++) {
            void *r;
            pthread_join(t[k], &r);
            sum += (long)r;
        }
    }
    printf("churn sum %ld, main tls %ld, once %d\n", sum, tls_counter, once_runs);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 10; i++) {
        pthread_t t;
        pthread_create(&t, &attr, detached, NULL);
    }
    pthread_mutex_lock(&lock);
    while (detached_done < 10) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    printf("detached done %d\n", detached_done);

    printf("destructors %d\n", destructor_calls);

    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &ma);
    pthread_t d;
    pthread_create(&d, NULL, dies_holding, NULL);
    pthread_join(d, NULL);
    int rc = pthread_mutex_lock(&robust);
    printf("robust: %s\n", rc == EOWNERDEAD ? "EOWNERDEAD" : rc == 0 ? "locked" : "other");
    if (rc == EOWNERDEAD) pthread_mutex_consistent(&robust);
    pthread_mutex_unlock(&robust);

    volatile int started = 0;
    pthread_t h;
    pthread_create(&h, NULL, holder, (void *)&started);
    while (!started) usleep(1000);
    fflush(stdout);
    return 0;
}
