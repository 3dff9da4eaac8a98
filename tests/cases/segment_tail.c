/* Prints what the kernel leaves around the program's read-only data segment: the bytes from the
   end of its file image to the end of that page (the kernel zeroes such a tail only in a writable
   segment, when a bss follows), the protection of its last page (a bss of a read-only segment is
   read-write natively), and AT_PHDR/AT_PHNUM (as
   offsets from the load bias, so runs that place the program differently compare equal). */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

static const char message[] = "read-only data";

/* The permissions /proc/self/maps gives the page at address, or "-" when nothing is mapped there. */
static void protection_of(unsigned long address, char perms[5])
{
    strcpy(perms, "-");
    FILE *maps = fopen("/proc/self/maps", "r");
    unsigned long start, end;
    char p[5];
    while (maps && fscanf(maps, "%lx-%lx %4s%*[^\n]", &start, &end, p) == 3)
        if (address >= start && address < end) strcpy(perms, p);
    if (maps) fclose(maps);
}

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size; (void)data;
    if (info->dlpi_name[0] != '\0') return 0;           /* the executable only */
    printf("AT_PHDR at +%#lx, AT_PHNUM %lu\n", getauxval(AT_PHDR) - info->dlpi_addr, getauxval(AT_PHNUM));
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & (PF_W | PF_X))) continue;
        unsigned long start = info->dlpi_addr + ph->p_vaddr;
        if ((unsigned long)message < start || (unsigned long)message >= start + ph->p_memsz) continue;
        const unsigned char *end = (const unsigned char *)(start + ph->p_filesz);
        const unsigned char *page_end = (const unsigned char *)(((unsigned long)end + 4095) & ~4095UL);
        unsigned long hash = 0, nonzero = 0;
        for (const unsigned char *p = end; p < page_end; p++) { hash = hash * 31 + *p; nonzero += *p != 0; }
        char last[5];
        protection_of(start + ph->p_memsz - 1, last);
        printf("read-only segment %d: filesz %#lx memsz %#lx, %ld tail bytes, %lu non-zero, hash %#lx; last page %s\n",
               i, (unsigned long)ph->p_filesz, (unsigned long)ph->p_memsz, (long)(page_end - end), nonzero, hash, last);
    }
    return 1;
}

int main(void)
{
    puts(message);
    dl_iterate_phdr(visit, NULL);
    return 0;
}
