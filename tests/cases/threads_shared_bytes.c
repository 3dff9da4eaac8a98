/* threads_shared_bytes: 16 threads write alternate bytes of shared buffers (thread t owns the bytes
 * i with i % 16 == t, so neighbouring bytes of every 4-byte group belong to different threads) and
 * free each other's blocks through a shared ring. A correct program: memcheck must report nothing,
 * however the threads interleave. Prints a checksum that does not depend on the interleaving. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 16
#define BUFFER 65536
#define ROUNDS 5000
#define RING 64

static unsigned char shared[4][BUFFER];
static pthread_barrier_t barrier;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static void *ring[RING];
static int ring_next;
static unsigned long checksums[THREADS];

static void *worker(void *arg)
{
    long t = (long)arg;
    unsigned long sum = 0;
    for (int round = 0; round < ROUNDS; round++) {
        unsigned char *buffer = shared[round % 4];
        for (int i = (int)t; i < BUFFER; i += THREADS) buffer[i] = (unsigned char)(round + t);
        unsigned char *mine = malloc(24 + (size_t)(round % 40));
        memset(mine, (int)t, 24);
        pthread_mutex_lock(&ring_lock);
        void *theirs = ring[ring_next];
        ring[ring_next] = mine;
        ring_next = (ring_next + 1) % RING;
        pthread_mutex_unlock(&ring_lock);
        free(theirs);
        pthread_barrier_wait(&barrier);
        for (int i = 0; i < BUFFER; i += 97) sum += buffer[i];
        pthread_barrier_wait(&barrier);
    }
    checksums[t] = sum;
    return NULL;
}

int main(void)
{
    pthread_t threads[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (long t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, worker, (void *)t);
    unsigned long total = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        total += checksums[t];
    }
    for (int i = 0; i < RING; i++) free(ring[i]);
    printf("checksum %lu\n", total);
    return 0;
}
