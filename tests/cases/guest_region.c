/* guest_region MODE: memory the kernel places for the program must be the program's to use
 * under memcheck too (memcheck places it in the guest's region, never among its own mappings).
 *   shm   - System V shared memory attached with no address
 *   maps  - 20,000 single-page mmaps (alternating protections), unmapped in a different order */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "shm")) {
        int id = shmget(IPC_PRIVATE, 100000, IPC_CREAT | 0600);
        char *p = shmat(id, NULL, 0);
        if (p == (void *)-1) { perror("shmat"); return 1; }
        strcpy(p + 99000, "shared hello");     /* near the end of the segment */
        printf("%s\n", p + 99000);
        shmdt(p);
        shmctl(id, IPC_RMID, NULL);
    }
    if (!strcmp(mode, "maps")) {
        enum { N = 20000 };
        static char *maps[N];
        for (int i = 0; i < N; i++) {
            maps[i] = mmap(NULL, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (maps[i] == MAP_FAILED) { perror("mmap"); return 1; }
            if (!(i & 1)) maps[i][4095] = (char)i;
        }
        long sum = 0;
        for (int i = 0; i < N; i += 2) sum += maps[i][4095];
        for (int i = N - 1; i >= 0; i -= 2) munmap(maps[i], 4096);
        for (int i = 0; i < N; i += 2) munmap(maps[i], 4096);
        printf("maps %d sum %ld\n", N, sum);
    }
    return 0;
}
