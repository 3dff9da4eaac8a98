/* Persisted translations across rebuilds: two builds of this file (VALUE 1 and 2) differ in every
 * case of one big switch (3000 blocks at -O0, each its own fragment, more than libc's start-up
 * translates), so run one after the other from one path, each makes most of the other's
 * translations dead. The snapshot must not grow without bound: once most of it is dead it is
 * dropped and the next run writes a compact one. */
#include <stdio.h>

#ifndef VALUE
#define VALUE 1
#endif

#define C1(n) case n: r = x ^ ((n) * 2654435761u + VALUE); break;
#define C10(n) C1(n##0) C1(n##1) C1(n##2) C1(n##3) C1(n##4) C1(n##5) C1(n##6) C1(n##7) C1(n##8) C1(n##9)
#define C100(n) C10(n##0) C10(n##1) C10(n##2) C10(n##3) C10(n##4) C10(n##5) C10(n##6) C10(n##7) C10(n##8) C10(n##9)
#define C1000(n) C100(n##0) C100(n##1) C100(n##2) C100(n##3) C100(n##4) C100(n##5) C100(n##6) C100(n##7) C100(n##8) C100(n##9)

static unsigned mix(int i, unsigned x)
{
    unsigned r = 0;
    switch (i) {
        C1000(1) C1000(2) C1000(3)
    }
    return r;
}

int main(int argc, char **argv)
{
    (void)argv;
    unsigned sum = 0;
    for (int i = 1000; i < 4000; i++) sum += mix(i, (unsigned)argc);
    printf("build %d sum %u\n", VALUE, sum);
    return 0;
}
