/*
 * Memory memcheck itself is about to write, populated in one call instead of a fault per page.
 * On a PVM guest kernel a page fault costs ~10 us while MADV_POPULATE_WRITE fills a range for
 * ~0.6 us a page (Linux 5.14; older kernels say EINVAL and the pages fault in one by one as before).
 *
 * - The .NET GC commits its heap 64 KiB at a time (mprotect to read-write, then madvise(MADV_DODUMP)
 *   to keep it in core dumps: gcenv.unix.cpp's VirtualCommit) and clears what it hands out, so every
 *   fresh page of managed heap was a fault: ~38,000 of them for the 150 MB a large program's
 *   translations keep alive. This madvise, linked into the executable, is the one the statically
 *   linked runtime calls; it populates each small committed range in the same call. A large commit
 *   (a large object's, which the GC does not clear: fresh pages are zero) is left to fault as it is
 *   used: a 64 MB table touched sparsely would otherwise be resident whole. Everything else passes
 *   straight through (the engine's madvise calls bind here too, through DirectPInvoke). Not exported
 *   (tool_descriptors.map): libraries loaded later keep libc's.
 * - The executable's zero-fill data (.bss and NativeAOT's 2 MB .hydrated, which the runtime fills at
 *   start-up): ~500 faults, ~5 ms of every run, populated by a constructor before main.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define LARGEST_POPULATED_COMMIT (1u << 20)   /* the heap's commits are 64 KiB-256 KiB */

static void populate(void *address, size_t length)
{
    int saved = errno;   /* best effort: the caller's errno is left as it was */
    syscall(SYS_madvise, address, length, MADV_POPULATE_WRITE);
    errno = saved;
}

int madvise(void *address, size_t length, int advice)
{
    long result = syscall(SYS_madvise, address, length, advice);
    if (result == 0 && advice == MADV_DODUMP && length <= LARGEST_POPULATED_COMMIT) populate(address, length);
    return (int)result;
}

extern char _edata[], _end[];   /* the linker's: end of the file-backed data, end of the zero-fill part */

__attribute__((constructor)) static void populate_zero_fill_data(void)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)_edata + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)_end + page - 1) & ~(page - 1);
    if (end > start) populate((void *)start, end - start);
}
