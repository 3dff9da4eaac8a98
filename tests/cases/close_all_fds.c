/* A program that closes every descriptor above stderr (as daemons and some shells do), then
 * crashes: memcheck's report must still reach the user, on its own private descriptor. */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
    for (int fd = 3; fd < 4096; fd++) close(fd);
    syscall(SYS_close_range, 3, ~0U, 0);
    puts("closed");
    fflush(stdout);
    *(volatile int *)0 = 1;
    return 0;
}
