/* Frames of 152 to 500 bytes, whose `sub rsp, imm` / `add rsp, imm` memcheck tracks inline: 50
 * nested 300-byte frames written and read (clean), a 400-byte frame's unwritten byte deciding a
 * branch (uninitialized, every call: each new frame is undefined again), and a read through a
 * pointer into a 440-byte frame that has returned (beyond the top of the stack). */
#include <stdio.h>
#include <string.h>

static volatile char *saved;
static volatile int bigs;

static __attribute__((noinline)) int nested(int depth)
{
    volatile char buf[300];
    memset((char *)buf, depth, sizeof buf);
    return depth ? nested(depth - 1) + buf[5] : buf[7];
}

static __attribute__((noinline)) int unwritten(int i)
{
    volatile char buf[400];
    buf[i] = 1;
    return buf[i] + buf[i + 200];
}

static __attribute__((noinline)) void remember(volatile char *p)
{
    saved = p;
}

static __attribute__((noinline)) int keep(void)
{
    volatile char buf[440];
    buf[0] = 7;
    remember(&buf[0]);
    return buf[0];
}

int main(int argc, char **argv)
{
    (void)argv;
    int sum = nested(50);
    for (int i = 0; i < 3; i++)
        if (unwritten(argc + i) > 5) /* LINE_UNINIT: a branch (a sum of setg results is no use) */
            bigs++;
    int kept = keep();
    int stale = *saved; /* LINE_STALE */
    printf("sum %d big %d kept %d stale %d\n", sum, bigs > 0, kept, stale > 0);
    return 0;
}
