/* stdio_qsort_setjmp: a dynamically linked program that exercises stdio
 * formatting (including floating point), qsort with a callback, setjmp /
 * longjmp through several frames, getenv and reading stdin.
 * Expects the environment variable CHECKER_CASE_VAR and one line on stdin.
 * Writes a few lines to stderr as well. Exits 0. */
#include <math.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf jump_target;
static int depth_reached;

static uint32_t rng_state = 12345u;
static uint32_t next_random(void)
{
    /* xorshift32: deterministic, no libc rand() dependence */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static __attribute__((noinline)) void descend(int level, int limit)
{
    volatile char pad[64];
    pad[level % 64] = (char)level;
    depth_reached = level;
    if (level == limit)
        longjmp(jump_target, 100 + level + pad[level % 64] - level);
    if (level < 1000)
        descend(level + 1, limit);
    pad[0] = 0; /* keep the frame live */
}

static void stdio_part(void)
{
    char buf[256];
    double pi = 3.14159265358979;
    printf("int %d, neg %d, unsigned %u, hex %x, HEX %X, oct %o\n",
           42, -17, 4000000000u, 0xdeadbeef, 0xcafe, 511);
    printf("float %f, %.2f, %10.4f, %-8.1f|, %e\n", pi, pi, -pi, 2.5, 123456.789);
    printf("general %g %g %g %g\n", 0.0001, 1e20, 100.0, sqrt(2.0));
    printf("string [%s] [%10s] [%-10s] [%.3s] char %c\n", "abc", "right", "left", "truncate", 'Z');
    printf("long %ld, long long %lld, size %zu, ptrdiff %td\n",
           -1234567890123L, 9223372036854775807LL, sizeof(long double), (ptrdiff_t)-5);
    int n = sprintf(buf, "%s-%04d-%x-%.3f", "sprintf", 7, 255, 1.0 / 3.0);
    printf("sprintf wrote %d: %s\n", n, buf);
    const char *volatile long_text = "this will be truncated";
    n = snprintf(buf, 12, "%s", long_text);
    printf("snprintf returned %d: %s\n", n, buf);
    n = snprintf(NULL, 0, "%g|%g", 1.5, -0.25);
    printf("snprintf(NULL) length %d\n", n);
    fprintf(stderr, "stderr line: %s %d %.1f\n", "diagnostic", 99, 0.5);
}

static void qsort_part(void)
{
    enum { N = 10000 };
    int *v = malloc(N * sizeof *v);
    if (!v) { perror("malloc"); exit(1); }
    for (int i = 0; i < N; i++)
        v[i] = (int)(next_random() % 1000000u) - 500000;
    qsort(v, N, sizeof *v, compare_ints);
    int sorted = 1;
    uint64_t checksum = 0;
    for (int i = 0; i < N; i++) {
        if (i > 0 && v[i - 1] > v[i]) sorted = 0;
        checksum = checksum * 31u + (uint32_t)v[i];
    }
    printf("qsort: n=%d sorted=%d min=%d max=%d median=%d checksum=%016llx\n",
           N, sorted, v[0], v[N - 1], v[N / 2], (unsigned long long)checksum);
    free(v);
}

static void setjmp_part(void)
{
    for (volatile int limit = 1; limit <= 5; limit += 2) {
        volatile int rounds = 0;
        int rc = setjmp(jump_target);
        rounds++;
        if (rc == 0) {
            descend(0, limit);
            printf("setjmp: not reached\n");
        } else {
            printf("setjmp: limit %d, longjmp value %d, depth %d, rounds %d\n",
                   limit, rc, depth_reached, rounds);
        }
    }
}

static void env_and_stdin_part(void)
{
    const char *var = getenv("CHECKER_CASE_VAR");
    printf("getenv: CHECKER_CASE_VAR=%s\n", var ? var : "(unset)");
    const char *missing = getenv("CHECKER_CASE_SURELY_UNSET");
    printf("getenv: unset variable is %s\n", missing ? "set" : "null");

    char line[512];
    if (fgets(line, sizeof line, stdin)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = '\0';
        printf("stdin: read %zu bytes: <%s>\n", len, line);
    } else {
        printf("stdin: nothing\n");
    }
    fprintf(stderr, "stderr: done\n");
}

int main(void)
{
    stdio_part();
    qsort_part();
    setjmp_part();
    env_and_stdin_part();
    return 0;
}
