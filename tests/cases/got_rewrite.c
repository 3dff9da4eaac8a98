/* A PLT call whose GOT slot the program rewrites, as plthook and other function hookers do.
 * Built with -Wl,-z,now: ld.so binds every slot at load and makes the GOT read-only (RELRO), so the
 * engine may translate the PLT stub's `jmp [rip+slot]` (with -fno-plt, the call's own
 * `call [rip+slot]`) as a direct branch. Built with -Wl,-z,lazy: the slot is bound at the first call
 * and stays writable, so the stub compares it with the function it held at translation. The program finds its slot for strtol in its dynamic
 * section, calls strtol, makes the slot's page writable, points the slot at its own function, makes
 * the page read-only again and calls again: the second call must reach the new target. Then the
 * same through a writable and executable page, with the page left writable, and written in place.
 * Last, a call through a function pointer in the program's data that the program changes. The calls come from one call site (parse), translated before the
 * first rewrite. */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static long fake_strtol(const char *s, char **end, int base)
{
    (void)s; (void)end; (void)base;
    return 42;
}

static long other_strtol(const char *s, char **end, int base)
{
    (void)s; (void)end; (void)base;
    return 99;
}

static void **slot_of(const char *name)
{
    struct link_map *main_map = _r_debug.r_map;
    const ElfW(Rela) *rela = NULL;
    size_t size = 0;
    const ElfW(Sym) *symbols = NULL;
    const char *strings = NULL;
    for (const ElfW(Dyn) *d = main_map->l_ld; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_JMPREL: rela = (const ElfW(Rela) *)d->d_un.d_ptr; break;
        case DT_PLTRELSZ: size = d->d_un.d_val; break;
        case DT_SYMTAB: symbols = (const ElfW(Sym) *)d->d_un.d_ptr; break;
        case DT_STRTAB: strings = (const char *)d->d_un.d_ptr; break;
        }
    }
    /* Without PLT relocations (-fno-plt), the slots are GLOB_DAT in DT_RELA. */
    if (rela == NULL) {
        for (const ElfW(Dyn) *d = main_map->l_ld; d->d_tag != DT_NULL; d++) {
            if (d->d_tag == DT_RELA) rela = (const ElfW(Rela) *)d->d_un.d_ptr;
            if (d->d_tag == DT_RELASZ) size = d->d_un.d_val;
        }
    }
    if (rela == NULL || symbols == NULL || strings == NULL) return NULL;
    for (size_t i = 0; i < size / sizeof *rela; i++) {
        uint32_t type = ELF64_R_TYPE(rela[i].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
        if (strcmp(strings + symbols[ELF64_R_SYM(rela[i].r_info)].st_name, name) == 0)
            return (void **)(main_map->l_addr + rela[i].r_offset);
    }
    return NULL;
}

static long last_strtol(const char *s, char **end, int base)
{
    (void)s; (void)end; (void)base;
    return 5;
}

static int set_slot(void **slot, void *value, int prot_during, int prot_after)
{
    void *page = (void *)((uintptr_t)slot & ~(uintptr_t)4095);
    if (mprotect(page, 4096, prot_during) != 0) return -1;
    *slot = value;
    return mprotect(page, 4096, prot_after);
}

static const char *volatile text = "7";

__attribute__((noinline)) static long parse(void)
{
    return strtol(text, NULL, 10);
}

/* A function pointer in the program's data, called where it is: call [rip+pointer]. */
long (*parser)(const char *, char **, int) = strtol;

__attribute__((noinline)) static long parse_through_pointer(void)
{
    return parser(text, NULL, 10);
}

int main(void)
{
    void **slot = slot_of("strtol");
    if (slot == NULL) {
        puts("no slot");
        return 1;
    }
    for (int i = 0; i < 3; i++) printf("strtol: %ld\n", parse());
    if (set_slot(slot, (void *)fake_strtol, PROT_READ | PROT_WRITE, PROT_READ) != 0) return 2;
    for (int i = 0; i < 3; i++) printf("after rewrite: %ld\n", parse());
    /* Writable and executable while written: the page's code is not flushed, what read its slots is. */
    if (set_slot(slot, (void *)other_strtol, PROT_READ | PROT_WRITE | PROT_EXEC, PROT_READ | PROT_EXEC) != 0) return 3;
    for (int i = 0; i < 3; i++) printf("after rwx rewrite: %ld\n", parse());
    if (set_slot(slot, (void *)last_strtol, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE) != 0) return 4;
    for (int i = 0; i < 3; i++) printf("writable: %ld\n", parse());
    /* Written in place, no system call (the page is writable now, as lazy binding's .got.plt is). */
    *(void *volatile *)slot = (void *)fake_strtol;
    for (int i = 0; i < 3; i++) printf("written in place: %ld\n", parse());
    for (int i = 0; i < 3; i++) printf("through a pointer: %ld\n", parse_through_pointer());
    parser = other_strtol;
    for (int i = 0; i < 3; i++) printf("through a pointer: %ld\n", parse_through_pointer());
    return 0;
}
