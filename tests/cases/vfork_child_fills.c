/* A vfork child allocates a block and fills it before it exits; the parent, which shares its memory
 * natively, reads the block and branches on it. Under memcheck the child is a fork that hands its
 * heap operations and changed pages back: the bytes it wrote must come back defined, as they are
 * (dash does this in every command it runs: its stack blocks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sink;

int main(void)
{
    char *volatile block = NULL;
    pid_t pid = vfork();
    if (pid == 0) {
        char *b = malloc(64);
        memset(b, 'x', 63);
        b[63] = 0;
        block = b;
        _exit(0);
    }
    if (pid < 0) return 1;
    int status;
    if (waitpid(pid, &status, 0) != pid) return 1;
    if (block[5] == 'x') /* LINE_READ */
        sink++;
    printf("%c %zu\n", block[5], strlen(block));
    free(block);
    return 0;
}
