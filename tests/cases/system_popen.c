/* system_popen: system("echo from-system") and popen("echo popen", "r"),
 * both of which fork and exec /bin/sh. Prints what it saw and the wait
 * statuses; exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int main(void)
{
    printf("before system\n");
    fflush(stdout);
    int status = system("echo from-system");
    printf("system: exited=%d status=%d\n", WIFEXITED(status), WEXITSTATUS(status));

    status = system("exit 5");
    printf("system exit 5: exited=%d status=%d\n", WIFEXITED(status), WEXITSTATUS(status));

    FILE *p = popen("echo popen", "r");
    if (p == NULL) {
        perror("popen");
        return 1;
    }
    char line[256];
    int lines = 0;
    while (fgets(line, sizeof line, p) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        printf("popen read: <%s>\n", line);
        lines++;
    }
    status = pclose(p);
    printf("pclose: lines=%d exited=%d status=%d\n", lines, WIFEXITED(status), WEXITSTATUS(status));
    return 0;
}
