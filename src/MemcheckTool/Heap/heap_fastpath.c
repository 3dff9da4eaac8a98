/*
 * The malloc family's common paths in native code (HeapFastPath.cs): called by the engine's
 * InterceptCall routine before it switches to C#, on the host stack, with the code cache's fs base
 * (the shadow's) still in force. So: no thread-local storage, no stack protector (both are fs:
 * accesses), general registers only (the guest's vector registers, MXCSR and x87 state are live
 * and not saved here), no calls into libc. It reads and writes the heap's own tables (ChunkTable,
 * ReusableBlocks, Quarantine, GuestHeap's counters, the thread's WalkMemo), which the C# side keeps
 * in pinned or native memory and describes in struct heap_state. Anything but the common case
 * returns 0 before changing anything, and the C# handler does the whole call as before.
 * Single-threaded programs only (the tool clears `enabled` before a second thread runs): the C#
 * side's lock is not taken here.
 */
#include <stdint.h>

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint8_t u8;

/* ChunkTable.Entry */
struct chunk_entry {
    u64 user, size, block_start, block_size;
    i32 alloc_stack, free_stack;
    u8 kind, routine, freed, in_use;
    u32 pad;
};
_Static_assert(sizeof(struct chunk_entry) == 48, "ChunkTable.Entry");

/* QuarantinedBlock */
struct quarantined {
    i32 slot, pad;
    u64 block_start, block_size;
};
_Static_assert(sizeof(struct quarantined) == 24, "QuarantinedBlock");

/* WalkMemo.Entry */
struct offset_word {
    u64 value;
    u32 offset;
} __attribute__((packed));
#define MEMO_WAYS 8
#define MEMO_WORDS 24
struct memo_entry {
    u64 pc, rsp, rbp, stack_top;
    i32 max_frames, word_count;
    u8 exact, uses_rbp, pad[2];
    i32 stack;   /* the stack's number + 1; 0: empty */
    struct offset_word words[MEMO_WORDS];
};
_Static_assert(sizeof(struct memo_entry) == 336, "WalkMemo.Entry");

/* WalkMemo's view (one per memo, native). */
struct memo_view {
    u64 *tags;
    struct memo_entry *entries;
    i64 set_bits;
    i64 dead;
};

/* What a fast tag does (HeapFastPath.Op). */
enum { OP_NONE = 0, OP_ALLOCATE = 1, OP_FREE = 2, OP_USABLE_SIZE = 3 };
struct fast_function {
    u64 argument_bits;   /* the argument registers' dirty bits (ArgumentDefinedness.ArgumentMask) */
    u8 op, kind, routine, pad[5];
};

#define MAX_TAGS 64
#define SMALL_BLOCK 65536
#define GRANULE 16
#define FAST_SHADOW_LIMIT 16384   /* blocks up to this many bytes have their shadow painted here */

/* HeapFastPath.State: field for field. */
struct heap_state {
    u64 enabled;
    u64 arena_start;
    u64 next;
    u8 *shadow_base;
    u64 fresh_pattern;
    u64 fixed_redzone;
    u64 delay_frees_bytes;
    u64 live_bytes, live_blocks, quarantined_bytes, hoarded_bytes;
    struct chunk_entry *slots;
    i64 slots_length, used;
    i32 *free_slots;
    i64 free_slots_length, free_count, chunk_count;
    struct quarantined *ring;
    i64 ring_length, ring_head, ring_count;
    u64 **lists;
    i64 *list_capacity;
    i64 reusable_count;
    i64 off_dirty, off_rax_shadow, off_memo;
    u64 rax_dirty_bit;
    i64 definedness;
    i64 max_frames;
    u64 calls;
    i64 off_rsp, off_rbp, off_rdi, off_rax, off_unwind_top, off_stop_signal;
    struct fast_function functions[MAX_TAGS];
};

#define AT(c, off, type) (*(type *)((u8 *)(c) + (off)))

static inline u64 redzone_for(const struct heap_state *s, u64 size)
{
    if (s->fixed_redzone) return s->fixed_redzone;
    if (size <= 64 - 16) return 16;
    if (size <= 128 - 32) return 32;
    if (size <= 512 - 64) return 64;
    if (size <= 4096 - 128) return 128;
    if (size <= (1 << 14) - 256) return 256;
    if (size <= (1 << 15) - 512) return 512;
    if (size <= (1 << 16) - 1024) return 1024;
    return 2048;
}

/* WalkMemo.TryGet for the walk CallstackCapture.CaptureId starts at a replaced function's entry;
 * -1 when the memo has no matching walk (the C# handler walks and remembers it). */
static inline i32 remembered_stack(const struct heap_state *s, void *c)
{
    const struct memo_view *memo = AT(c, s->off_memo, const struct memo_view *);
    if (!memo || memo->dead) return -1;
    u64 rsp = AT(c, s->off_rsp, u64);
    u64 top = AT(c, s->off_unwind_top, u64);
    if (rsp + 8 > top) return -1;
    u64 pc = *(const u64 *)rsp;
    u64 start_rsp = rsp + 8, rbp = AT(c, s->off_rbp, u64);
    u64 hash = (pc ^ start_rsp) * 0x9E3779B97F4A7C15ull;
    i64 set = (i64)(hash >> (64 - memo->set_bits)) * MEMO_WAYS;
    for (int way = 0; way < MEMO_WAYS; way++) {
        if (memo->tags[set + way] != hash) continue;
        const struct memo_entry *e = &memo->entries[set + way];
        if (e->stack == 0 || e->pc != pc || e->rsp != start_rsp || e->stack_top != top
            || e->max_frames != (i32)s->max_frames || e->exact || (e->uses_rbp && e->rbp != rbp))
            continue;
        int i = 0;
        for (; i < e->word_count; i++)
            if (*(const u64 *)(start_rsp + e->words[i].offset) != e->words[i].value) break;
        if (i == e->word_count) return e->stack - 1;
    }
    return -1;
}

/* BlockShadow.Set for a 16-aligned block of at most FAST_SHADOW_LIMIT bytes. */
static inline void paint(const struct heap_state *s, u64 user, u64 size, u8 pattern)
{
    u8 *q = s->shadow_base + (user >> 2);
    u64 whole = size >> 2;
    u64 word = pattern * 0x0101010101010101ull;
    u64 left = whole;
    for (; left >= 8; left -= 8, q += 8) *(volatile u64 *)q = word;
    for (; left > 0; left--, q++) *(volatile u8 *)q = pattern;
    u64 tail = size & 3;
    if (tail) {
        /* ShadowBits.Fill(unaddressable, 0, tail, state): the lanes past the size stay unaddressable. */
        u8 mask = (u8)((1u << (2 * tail)) - 1);
        *q = (u8)((0xFF & ~mask) | (pattern & mask));
    }
}

static inline void define_result(const struct heap_state *s, void *c)
{
    if (!s->definedness) return;
    AT(c, s->off_rax_shadow, u64) = 0;
    AT(c, s->off_dirty, u64) &= ~s->rax_dirty_bit;
}

static int allocate(struct heap_state *s, void *c, const struct fast_function *f)
{
    u64 size = AT(c, s->off_rdi, u64);
    if ((i64)size < 0) return 0;                       /* fishy: reported by the C# handler */
    u64 redzone = redzone_for(s, size);
    u64 body = ((size ? size : 1) + GRANULE - 1) & ~(u64)(GRANULE - 1);
    u64 block_size = redzone + body + redzone;
    if (block_size > SMALL_BLOCK || size > FAST_SHADOW_LIMIT) return 0;
    u64 *list = s->lists[block_size / GRANULE];
    if (!list || list[0] == 0) return 0;               /* carved from the ranges or the arena's end in C# */
    if (s->free_count == 0 && s->used >= s->slots_length) return 0;   /* the table grows in C# */
    i32 stack = remembered_stack(s, c);
    if (stack < 0) return 0;

    u64 held = list[0];
    u64 block_start = list[held];
    list[0] = held - 1;
    s->reusable_count--;
    s->hoarded_bytes -= block_size;
    u64 user = block_start + redzone;
    if (s->shadow_base) paint(s, user, size, (u8)s->fresh_pattern);

    i64 slot = s->free_count > 0 ? s->free_slots[--s->free_count] : s->used++;
    struct chunk_entry *e = &s->slots[slot];
    e->user = user;
    e->size = size;
    e->block_start = block_start;
    e->block_size = block_size;
    e->alloc_stack = stack;
    e->free_stack = 0;
    e->kind = f->kind;
    e->routine = f->routine;
    e->freed = 0;
    e->in_use = 1;
    *(u64 *)(user - 8) = (u64)slot;
    s->chunk_count++;
    s->live_bytes += size;
    s->live_blocks++;
    AT(c, s->off_rax, u64) = user;
    return 1;
}

/* The slot of the block whose user address is `user`, by its tag; -1 (the C# handler decides) otherwise. */
static inline i64 tagged_slot(const struct heap_state *s, u64 user)
{
    if (user < s->arena_start + 16 || user >= s->next || (user & 15) != 0) return -1;
    u64 tag = *(const u64 *)(user - 8);
    if (tag >= (u64)s->used || s->slots[tag].user != user) return -1;
    return (i64)tag;
}

static int free_block(struct heap_state *s, void *c, const struct fast_function *f)
{
    u64 user = AT(c, s->off_rdi, u64);
    if (user == 0) {
        AT(c, s->off_rax, u64) = 0;
        return 1;
    }
    if (user < s->arena_start + 16 || user >= s->next || (user & 15) != 0) return 0;
    /* The block's slot is usually out of the caches (the table is large, the block old): it comes
     * in while the walk memo is looked up (the stack words it compares are warm). */
    u64 tag = *(const u64 *)(user - 8);
    if (tag < (u64)s->used) __builtin_prefetch(&s->slots[tag]);
    i32 stack = remembered_stack(s, c);
    if (stack < 0) return 0;
    i64 slot = tagged_slot(s, user);
    if (slot < 0) return 0;
    struct chunk_entry *e = &s->slots[slot];
    if (e->freed || e->kind != f->kind) return 0;      /* double free, mismatch: reported in C# */
    if (e->size > FAST_SHADOW_LIMIT) return 0;         /* its shadow is set through ShadowMemory */
    if (s->ring_count == s->ring_length) return 0;     /* the ring grows in C# */

    /* The blocks this free pushes out of quarantine must all go to small lists with room. */
    u64 quarantined = s->quarantined_bytes + e->block_size;
    i64 count = s->ring_count + 1, mask = s->ring_length - 1, recycled = 0;
    while (quarantined > s->delay_frees_bytes && count > 1) {
        const struct quarantined *q = &s->ring[(s->ring_head + recycled) & mask];
        if (q->block_size > SMALL_BLOCK) return 0;
        const u64 *list = s->lists[q->block_size / GRANULE];
        if (!list || (i64)list[0] + recycled + 1 >= s->list_capacity[q->block_size / GRANULE]) return 0;
        if (s->free_count + recycled + 1 > s->free_slots_length) return 0;
        quarantined -= q->block_size;
        count--;
        recycled++;
    }

    e->free_stack = stack;
    e->freed = 1;
    s->live_bytes -= e->size;
    s->live_blocks--;
    if (s->shadow_base) paint(s, user, e->size, 0xFF);
    struct quarantined *added = &s->ring[(s->ring_head + s->ring_count) & mask];
    added->slot = (i32)slot;
    added->block_start = e->block_start;
    added->block_size = e->block_size;
    s->ring_count++;
    s->quarantined_bytes += e->block_size;
    while (s->quarantined_bytes > s->delay_frees_bytes && s->ring_count > 1) {
        const struct quarantined *q = &s->ring[s->ring_head];
        struct chunk_entry *old = &s->slots[q->slot];
        old->in_use = 0;
        old->user = 0;
        s->free_slots[s->free_count++] = q->slot;
        s->chunk_count--;
        s->quarantined_bytes -= q->block_size;
        u64 *list = s->lists[q->block_size / GRANULE];
        u64 held = list[0] + 1;
        list[held] = q->block_start;
        list[0] = held;
        s->reusable_count++;
        s->hoarded_bytes += q->block_size;
        s->ring_head = (s->ring_head + 1) & mask;
        s->ring_count--;
    }
    AT(c, s->off_rax, u64) = 0;
    return 1;
}

static int usable_size(struct heap_state *s, void *c)
{
    u64 user = AT(c, s->off_rdi, u64);
    if (user < s->arena_start + 16 || user >= s->next || (user & 15) != 0) {
        AT(c, s->off_rax, u64) = 0;
        return 1;
    }
    i64 slot = tagged_slot(s, user);
    if (slot < 0) return 0;
    AT(c, s->off_rax, u64) = s->slots[slot].freed ? 0 : s->slots[slot].size;
    return 1;
}

/*
 * The engine's fast intercept: `call` is what the entry's fragment stored (its number, and the
 * function's fast tag in bits 24-31); 1 when the call is done (the result in the block's rax), 0
 * when the C# handler must run it.
 */
__attribute__((visibility("default")))
int checker_heap_fast(void *context, u32 call, struct heap_state *s)
{
    u32 tag = call >> 24;
    if (!s || !s->enabled || tag >= MAX_TAGS) return 0;
    if (AT(context, s->off_stop_signal, i32) != 0) return 0;
    const struct fast_function *f = &s->functions[tag];
    if (s->definedness && (AT(context, s->off_dirty, u64) & f->argument_bits) != 0) return 0;
    int done;
    switch (f->op) {
    case OP_ALLOCATE: done = allocate(s, context, f); break;
    case OP_FREE: done = free_block(s, context, f); break;
    case OP_USABLE_SIZE: done = usable_size(s, context); break;
    default: return 0;
    }
    if (!done) return 0;
    define_result(s, context);
    s->calls++;
    return 1;
}

/* For HeapFastPath's layout check: the sizes this file was compiled with. */
__attribute__((visibility("default")))
u64 checker_heap_layout(int which)
{
    switch (which) {
    case 0: return sizeof(struct heap_state);
    case 1: return sizeof(struct chunk_entry);
    case 2: return sizeof(struct quarantined);
    case 3: return sizeof(struct memo_entry);
    case 4: return sizeof(struct memo_view);
    case 5: return sizeof(struct fast_function);
    default: return 0;
    }
}
