/* pthread_create: creates one thread and joins it; the thread writes through a pointer to main's
 * stack. Natively prints one line and exits 0; the same under memcheck. */
#include <pthread.h>
#include <stdio.h>

static void *worker(void *arg)
{
    *(int *)arg = 42;
    return NULL;
}

int main(void)
{
    int value = 0;
    pthread_t thread;
    if (pthread_create(&thread, NULL, worker, &value) != 0) {
        printf("pthread_create failed\n");
        return 1;
    }
    pthread_join(thread, NULL);
    printf("thread set value=%d\n", value);
    return 0;
}
