/* Memory passed to system calls that the program may not touch (each reported as Valgrind
   reports a syscall parameter error), and an undefined argument register. Output goes to
   /dev/null; every call fails or succeeds as it would natively. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
    int fd = open("/dev/null", O_WRONLY);
    char *freed = malloc(16);
    memset(freed, 'x', 16);
    free(freed);
    long r1 = write(fd, freed, 16);                               /* LINE_FREED_WRITE */

    long r2 = writev(fd, NULL, 2);                                /* LINE_NULL_IOVEC */

    char *one = malloc(8), *two = malloc(8);
    memset(one, 'a', 8);
    memset(two, 'b', 8);
    free(two);
    struct iovec iov[2] = { { one, 8 }, { two, 8 } };
    long r3 = writev(fd, iov, 2);                                 /* LINE_FREED_IOVEC */

    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_storage address;
    long r4 = getsockname(sock, (struct sockaddr *)&address, NULL);   /* LINE_NULL_SOCKLEN */

    char *argv[] = { "true", NULL };
    long r5 = syscall(SYS_execve, NULL, argv, NULL);              /* LINE_NULL_EXECVE */

    char *small = malloc(4);
    long r6 = read(open("/dev/zero", O_RDONLY), small, 8);        /* LINE_READ_PAST */

    printf("%ld %ld %ld %ld %ld %ld\n", r1, r2, r3, r4, r5, r6);
    free(small);
    free(one);
    close(sock);
    return 0;
}
