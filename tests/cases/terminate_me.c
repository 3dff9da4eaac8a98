/* terminate_me MODE: prints "ready" and waits to be ended from outside (or by its own alarm), with a
 * heap overflow and a leak behind it, so the report at the end has something to say.
 *   spin     - loops in translated code that never comes back to the dispatcher
 *   pause    - blocks in pause(2)
 *   alarm    - alarm(1) with the default action: dies of SIGALRM
 *   handler  - alarm(1) with a handler installed: it says "handled" and exits 7
 *   reignore - SIGTERM ignored, then its default action again, then pause */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *leaked;
static void on_alarm(int signal)
{
    (void)signal;
    if (write(1, "handled\n", 8) != 8) _exit(1);
    _exit(7);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "pause";
    leaked = malloc(100);
    leaked[100] = 1;      /* LINE_OVERFLOW */
    leaked = NULL;        /* 100 bytes lost */
    if (!strcmp(mode, "handler")) signal(SIGALRM, on_alarm);
    if (!strcmp(mode, "reignore")) { signal(SIGTERM, SIG_IGN); signal(SIGTERM, SIG_DFL); }
    if (!strcmp(mode, "alarm") || !strcmp(mode, "handler")) alarm(1);
    printf("ready\n");
    fflush(stdout);
    volatile unsigned long spins = 0;
    if (!strcmp(mode, "spin")) for (;;) spins++;
    for (;;) pause();
}
