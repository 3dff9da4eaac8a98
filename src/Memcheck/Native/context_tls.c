/*
 * Every thread's context block (src/Engine/State/ContextBlock.cs), in the executable's static TLS:
 * generated code reaches it as fs:[offset + slot] from any thread (ContextTls.cs). Local-exec: the
 * executable's TLS lies at a link-time displacement below the thread pointer, the same in every
 * thread. Zeroed for each new thread by glibc.
 */
#include <stddef.h>
#include <stdint.h>

#define CONTEXT_BLOCK_SIZE 0x4400   /* ContextOffsets.Size; ContextTls.Configure checks it */

static __thread unsigned char context_block[CONTEXT_BLOCK_SIZE]
    __attribute__((tls_model("local-exec"), aligned(64)));

static inline uintptr_t thread_pointer(void)
{
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));   /* the TCB's self pointer */
    return tp;
}

/* The block's displacement from the thread pointer. */
int64_t checker_context_tls_offset(void)
{
    return (int64_t)((uintptr_t)context_block - thread_pointer());
}

int64_t checker_context_tls_size(void)
{
    return CONTEXT_BLOCK_SIZE;
}
