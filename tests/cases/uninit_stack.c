/* Uninitialized stack memory, reported where it decides something: a local set on one path only,
 * a leaf function's partly filled array (it lives in the red zone below rsp, with no frame of its
 * own), and a struct with padding and an unset tail passed to write(). Around them, stack memory
 * that is written before it is read (an out parameter, a buffer sprintf fills, recursion, alloca)
 * must report nothing. */
#include <alloca.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int taken;

__attribute__((noinline)) static int local_on_one_path(int c)
{
    volatile int x; /* set only when c > 5: it is not here */
    if (c > 5) x = c;
    if (x > 3) /* LINE_LOCAL */
    {
        taken++; /* a branch the value decides (-O2 made a bare return 1 a setg: no use) */
        return 1;
    }
    return 0;
}

__attribute__((noinline)) static int partly_filled_array(int n)
{
    volatile int a[16];
    for (int i = 0; i < n; i++) a[i] = i;
    int sum = 0;
    for (int i = 0; i < 16; i++) sum += a[i];
    if (sum > 100) /* LINE_ARRAY */
    {
        taken++; /* a branch the value decides (-O2 made a bare return 1 a setg: no use) */
        return 1;
    }
    return 0;
}

struct record { char tag; /* 3 bytes of padding */ int value; char name[8]; };

__attribute__((noinline)) static void record_with_holes(int fd)
{
    struct record r;
    r.tag = 'r';
    r.value = 7;
    memcpy(r.name, "abc", 4); /* name[4..7] never written */
    if (write(fd, &r, sizeof r) < 0) /* LINE_WRITE */
        perror("write");
}

__attribute__((noinline)) static void fill(int *out, int v) { *out = v * 3; }

__attribute__((noinline)) static int recurse(int depth)
{
    int local[4];
    for (int i = 0; i < 4; i++) local[i] = depth + i;
    return depth == 0 ? local[3] : local[depth % 4] + recurse(depth - 1);
}

__attribute__((noinline)) static int written_before_read(int n)
{
    int out;
    fill(&out, n);
    char buf[32];
    snprintf(buf, sizeof buf, "%d-%d", out, n);
    char *scratch = alloca(n + 16);
    memset(scratch, 'x', n + 15);
    scratch[n + 15] = 0;
    return (int)strlen(buf) + (int)strlen(scratch) + recurse(20);
}

int main(int argc, char **argv)
{
    (void)argv;
    int fd = open("/dev/null", O_WRONLY);
    int clean = written_before_read(argc + 4);
    int a = local_on_one_path(argc);
    int b = partly_filled_array(argc + 3);
    record_with_holes(fd);
    close(fd);
    printf("clean %d\n", clean);
    return a + b >= 0 ? 0 : 1;
}
