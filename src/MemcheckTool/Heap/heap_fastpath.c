/*
 * The malloc family's common paths in native code (HeapFastPath.cs): called by the engine's
 * InterceptCall routine before it switches to C#, on the host stack, with the code cache's fs base
 * (the shadow's) still in force. So: no thread-local storage, no stack protector (both are fs:
 * accesses), general registers only (the guest's vector registers, MXCSR and x87 state are live
 * and not saved here), no calls into libc. It reads and writes the heap's own tables (ChunkTable,
 * ReusableBlocks, Quarantine, GuestHeap's counters, the thread's WalkMemo), which the C# side keeps
 * in pinned or native memory and describes in struct heap_state. Anything but the common case
 * returns 0 before changing anything, and the C# handler does the whole call as before. Served:
 * malloc, operator new and new[] of a small size (from the block's exact-size free list or, as
 * GuestHeap.Allocate would, carved from the arena's unused end when the list is empty and no free
 * range fits), free and delete of a live block of the right family, realloc (a small new block,
 * the kept bytes and their definedness copied, the old block freed) and malloc_usable_size.
 * Single-threaded programs only (the tool clears `enabled` before a second thread runs): the C#
 * side's lock is not taken here.
 */
#include <stdint.h>

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint8_t u8;

/* ChunkTable.Entry: one cache line, and the table is line-aligned. */
struct chunk_entry {
    u64 user;                               /* 0: no block */
    u32 size_low;
    u8 size_high, kind, routine, freed;
    u32 left_granules, block_granules;      /* user - block_start, block_size: in GRANULEs */
    i32 alloc_stack, free_stack;
};
_Static_assert(sizeof(struct chunk_entry) == 32, "ChunkTable.Entry");

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
enum { OP_NONE = 0, OP_ALLOCATE = 1, OP_FREE = 2, OP_USABLE_SIZE = 3, OP_REALLOCATE = 4, OP_ALLOCATE_CLEARED = 5 };
struct fast_function {
    u64 argument_bits;   /* the argument registers' dirty bits (ArgumentDefinedness.ArgumentMask) */
    u8 op, kind, routine, pad[5];
};

#define MAX_TAGS 64
#define SMALL_BLOCK 65536
#define GRANULE 16

/* ChunkTable.Entry's packed fields. */
static inline u64 entry_size(const struct chunk_entry *e) { return e->size_low | (u64)e->size_high << 32; }
static inline u64 entry_block_start(const struct chunk_entry *e) { return e->user - (u64)e->left_granules * GRANULE; }
static inline u64 entry_block_size(const struct chunk_entry *e) { return (u64)e->block_granules * GRANULE; }
#define FAST_SHADOW_LIMIT 16384   /* blocks up to this many bytes have their shadow painted here */
#define HOARD_FLOOR (16ull << 20)  /* GuestHeap.HoardFloor */

/* HeapFastPath.State: field for field. */
struct heap_state {
    u64 enabled;
    u64 arena_start;
    u64 next;
    u8 *shadow_base;
    u64 fresh_pattern;
    u64 fixed_redzone;
    u64 delay_frees_bytes, delay_frees;
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
    u64 committed;     /* blocks may be carved up to here: the arena open and populated (GuestHeap.Commit) */
    u64 max_range;     /* the longest of FreeRanges' ranges (0: none) */
    i64 off_rsi;
    u64 *held;         /* a bit per size class whose list holds blocks (ReusableBlocks.HeldAbove) */
    struct fast_function functions[MAX_TAGS];
};

#define AT(c, off, type) (*(type *)((u8 *)(c) + (off)))

/*
 * Start bringing a line in to write it (prefetchw: a NOP where unsupported). As asm with a
 * memory clobber, so gcc keeps it where it is written: __builtin_prefetch was sunk past the walk-memo
 * lookup it was meant to overlap, right before the load it was meant to hide.
 */
static inline void prefetch_write(const void *p) { __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p) : "memory"); }

/* The shadow of [user, user + size) for writing: its first line and, for a larger block, its last (the
 * hardware prefetcher follows the paint loop's stores in between). */
static inline void prefetch_shadow(const struct heap_state *s, u64 user, u64 size)
{
    if (!s->shadow_base) return;
    const u8 *first = s->shadow_base + (user >> 2);
    prefetch_write(first);
    if (size > 256) prefetch_write(first + ((size - 1) >> 2));
}

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

/* Unaddressable shadow for [from, to), both multiples of 4 (redzones of a block carved here). */
static inline void paint_unaddressable(const struct heap_state *s, u64 from, u64 to)
{
    for (u8 *q = s->shadow_base + (from >> 2), *e = s->shadow_base + (to >> 2); q < e; q++) *(volatile u8 *)q = 0xFF;
}

/* Where GuestHeap.Allocate puts a malloc-aligned block, worked out without changing anything. */
/* ReusableBlocks.ClassSize: a new small block's size, rounded up to its class (16-byte steps up
 * to 512, then eighths of the power of two below it), so freed blocks meet requests of near sizes. */
static inline u64 class_size(u64 block_size)
{
    if (block_size <= 512) return block_size;
    u64 step = (1ULL << (63 - __builtin_clzll(block_size))) / 8;
    return (block_size + step - 1) & ~(step - 1);
}

/* ReusableBlocks.HeldAbove: the smallest class above block_size's, up to twice its size, that holds
 * a block; 0 when none. */
static inline u64 held_above(const struct heap_state *s, u64 block_size)
{
    u64 first = block_size / GRANULE + 1, last = (2 * block_size < SMALL_BLOCK ? 2 * block_size : SMALL_BLOCK) / GRANULE;
    for (u64 c = first; c <= last; c = (c | 63) + 1) {
        u64 bits = s->held[c / 64] >> (c % 64);
        if (bits == 0) continue;
        u64 found = c + (u64)__builtin_ctzll(bits);
        return found <= last ? found * GRANULE : 0;
    }
    return 0;
}

struct placement {
    u64 size, redzone, block_start, block_size, user;
    u64 *list;   /* the free list it comes from; 0: carved from the arena's unused end */
};

/*
 * 1 when the block for `size` can be placed here as the C# side would: the top of its exact-size
 * free list or, with that list empty, no free range long enough and the hoard not due to be merged
 * (GuestHeap.HoardOutgrewHeap), at the arena's unused end inside what is already open. 0 (the C#
 * side decides) for anything else: a fishy size, a large block, the slot table full.
 */
static int place(const struct heap_state *s, u64 size, struct placement *p)
{
    if ((i64)size < 0) return 0;                       /* fishy: reported by the C# handler */
    u64 redzone = redzone_for(s, size);
    u64 body = ((size ? size : 1) + GRANULE - 1) & ~(u64)(GRANULE - 1);
    u64 block_size = class_size(redzone + body + redzone);
    if (block_size > SMALL_BLOCK || size > FAST_SHADOW_LIMIT) return 0;
    if (s->free_count == 0 && s->used >= s->slots_length) return 0;   /* the table grows in C# */
    p->size = size;
    p->redzone = redzone;
    p->block_size = block_size;
    u64 *list = s->lists[block_size / GRANULE];
    if (!list || list[0] == 0) {
        u64 larger = held_above(s, block_size);
        if (larger) {
            block_size = p->block_size = larger;
            list = s->lists[larger / GRANULE];
        }
    }
    if (list && list[0] != 0) {
        p->list = list;
        p->block_start = list[list[0]];
        p->user = p->block_start + redzone;
        return 1;
    }
    if (s->max_range >= block_size) return 0;                                      /* FreeRanges.TryTake */
    if (s->hoarded_bytes >= HOARD_FLOOR && s->hoarded_bytes >= s->live_bytes) return 0;   /* a merge first */
    u64 user = (s->next + redzone + GRANULE - 1) & ~(u64)(GRANULE - 1);
    if (user - redzone != s->next) return 0;           /* an alignment gap: released in C# */
    if (s->next + block_size > s->committed) return 0;    /* C# populates (and opens) further */
    p->list = 0;
    p->block_start = s->next;
    p->user = user;
    return 1;
}

/* The slot a claim will take (ChunkTable.Add's choice). */
static inline struct chunk_entry *next_slot(const struct heap_state *s, i64 *slot)
{
    *slot = s->free_count > 0 ? s->free_slots[s->free_count - 1] : s->used;
    return &s->slots[*slot];
}

/* Starts bringing in what claiming `p` writes: a recycled block spent the whole quarantine out of use,
 * so its tag's line and its shadow are cold, and so may be the slot. */
static inline void prefetch_claim(const struct heap_state *s, const struct placement *p)
{
    i64 slot;
    prefetch_write(next_slot(s, &slot));
    prefetch_write((const u8 *)p->user - 8);
    prefetch_shadow(s, p->user, p->size);
}

/* GuestHeap.Allocate for a placed block: the block taken, its shadow painted (`pattern`: the fresh
 * state, or Defined for calloc), its slot filled. */
static u64 claim(struct heap_state *s, const struct placement *p, const struct fast_function *f, i32 stack, u8 pattern)
{
    u64 user = p->user;
    if (p->list) {
        if (--p->list[0] == 0) s->held[p->block_size / GRANULE / 64] &= ~(1ULL << (p->block_size / GRANULE % 64));
        s->reusable_count--;
        s->hoarded_bytes -= p->block_size;
        if (s->shadow_base) paint(s, user, p->size, pattern);
    } else {
        u64 end = p->block_start + p->block_size;
        s->next = end;
        if (s->shadow_base) {
            paint_unaddressable(s, p->block_start, user);
            paint(s, user, p->size, pattern);   /* the lanes past the size too */
            paint_unaddressable(s, (user + p->size + 3) & ~(u64)3, end);
        }
    }
    i64 slot;
    struct chunk_entry *e = next_slot(s, &slot);
    if (s->free_count > 0) s->free_count--;
    else s->used++;
    /* place() keeps blocks small: the size and extent fit the packed fields. */
    e->size_low = (u32)p->size;
    e->size_high = (u8)(p->size >> 32);
    e->left_granules = (u32)((user - p->block_start) / GRANULE);
    e->block_granules = (u32)(p->block_size / GRANULE);
    e->alloc_stack = stack;
    e->free_stack = 0;
    e->kind = f->kind;
    e->routine = f->routine;
    e->freed = 0;
    e->user = user;
    *(u64 *)(user - 8) = (u64)slot;
    s->chunk_count++;
    s->live_bytes += p->size;
    s->live_blocks++;
    return user;
}

static int allocate(struct heap_state *s, void *c, const struct fast_function *f)
{
    struct placement p;
    if (!place(s, AT(c, s->off_rdi, u64), &p)) return 0;
    prefetch_claim(s, &p);
    i32 stack = remembered_stack(s, c);
    if (stack < 0) return 0;
    AT(c, s->off_rax, u64) = claim(s, &p, f, stack, (u8)s->fresh_pattern);
    return 1;
}

/* Zeros from `user` on, whole words: a block's body is a multiple of 16 bytes (no libc here). */
static inline void clear(u64 user, u64 size)
{
    u64 words = (size + 7) >> 3;
    __asm__ volatile("rep stosq" : "+D"(user), "+c"(words) : "a"(0ull) : "memory");
}

/* HeapFunctions.Calloc for a small product: the block cleared and defined. Large or overflowing
 * products (and their fishy-argument reports) are the C# side's. */
static int allocate_cleared(struct heap_state *s, void *c, const struct fast_function *f)
{
    u64 count = AT(c, s->off_rdi, u64), size = AT(c, s->off_rsi, u64);
    if (count > SMALL_BLOCK || size > SMALL_BLOCK) return 0;
    struct placement p;
    if (!place(s, count * size, &p)) return 0;
    prefetch_claim(s, &p);
    i32 stack = remembered_stack(s, c);
    if (stack < 0) return 0;
    u64 user = claim(s, &p, f, stack, 0);
    clear(user, count * size);
    AT(c, s->off_rax, u64) = user;
    return 1;
}

/* A heap address as GuestHeap.IsBlockAddress sees it (its tag below it is mapped). */
static inline int block_address(const struct heap_state *s, u64 user)
{
    return user >= s->arena_start + 16 && user < s->next && (user & 15) == 0;
}

/* The slot of the block whose user address is `user`, by its tag; -1 (the C# handler decides) otherwise. */
static inline i64 tagged_slot(const struct heap_state *s, u64 user)
{
    if (!block_address(s, user)) return -1;
    u64 tag = *(const u64 *)(user - 8);
    if (tag >= (u64)s->used || s->slots[tag].user != user) return -1;
    return (i64)tag;
}

/* The slots of the oldest quarantined blocks, which this free and the next are likely to recycle
 * (their entries were last written when those blocks were freed). */
static inline void prefetch_recycled(const struct heap_state *s)
{
    if (s->ring_count > 1) {
        i64 mask = s->ring_length - 1;
        prefetch_write(&s->slots[s->ring[s->ring_head].slot]);
        prefetch_write(&s->slots[s->ring[(s->ring_head + 1) & mask].slot]);
    }
}

/*
 * The slot of the live block at `user` that GuestHeap.Free can free here, as `kind`: found by its
 * tag, not freed, of that family, its shadow small enough, and every block the free pushes out of
 * quarantine bound for a small list with room; -1 (the C# handler decides or reports) otherwise.
 * Changes nothing.
 */
static i64 freeable(const struct heap_state *s, u64 user, u8 kind)
{
    i64 slot = tagged_slot(s, user);
    if (slot < 0) return -1;
    const struct chunk_entry *e = &s->slots[slot];
    if (e->freed || e->kind != kind) return -1;        /* double free, mismatch: reported in C# */
    if (entry_size(e) > FAST_SHADOW_LIMIT) return -1;  /* its shadow is set through ShadowMemory */
    if (s->ring_count == s->ring_length) return -1;    /* the ring grows in C# */
    u64 quarantined = s->quarantined_bytes + entry_block_size(e);
    i64 count = s->ring_count + 1, mask = s->ring_length - 1, recycled = 0;
    while ((quarantined > s->delay_frees_bytes || (u64)count > s->delay_frees) && count > 1) {
        const struct quarantined *q = &s->ring[(s->ring_head + recycled) & mask];
        if (q->block_size > SMALL_BLOCK) return -1;
        const u64 *list = s->lists[q->block_size / GRANULE];
        if (!list || (i64)list[0] + recycled + 1 >= s->list_capacity[q->block_size / GRANULE]) return -1;
        if (s->free_count + recycled + 1 > s->free_slots_length) return -1;
        quarantined -= q->block_size;
        count--;
        recycled++;
    }
    return slot;
}

/* GuestHeap.Free of the block in `slot` (freeable): into quarantine, the oldest blocks out of it. */
static void release(struct heap_state *s, i64 slot, i32 stack)
{
    struct chunk_entry *e = &s->slots[slot];
    i64 mask = s->ring_length - 1;
    e->free_stack = stack;
    e->freed = 1;
    u64 size = entry_size(e), block_size = entry_block_size(e);
    s->live_bytes -= size;
    s->live_blocks--;
    if (s->shadow_base) paint(s, e->user, size, 0xFF);
    struct quarantined *added = &s->ring[(s->ring_head + s->ring_count) & mask];
    added->slot = (i32)slot;
    added->block_start = entry_block_start(e);
    added->block_size = block_size;
    s->ring_count++;
    s->quarantined_bytes += block_size;
    while ((s->quarantined_bytes > s->delay_frees_bytes || (u64)s->ring_count > s->delay_frees) && s->ring_count > 1) {
        const struct quarantined *q = &s->ring[s->ring_head];
        struct chunk_entry *old = &s->slots[q->slot];
        old->user = 0;
        s->free_slots[s->free_count++] = q->slot;
        s->chunk_count--;
        s->quarantined_bytes -= q->block_size;
        u64 *list = s->lists[q->block_size / GRANULE];
        u64 held = list[0] + 1;
        list[held] = q->block_start;
        list[0] = held;
        if (held == 1) s->held[q->block_size / GRANULE / 64] |= 1ULL << (q->block_size / GRANULE % 64);
        s->reusable_count++;
        s->hoarded_bytes += q->block_size;
        s->ring_head = (s->ring_head + 1) & mask;
        s->ring_count--;
    }
}

static int free_block(struct heap_state *s, void *c, const struct fast_function *f)
{
    u64 user = AT(c, s->off_rdi, u64);
    if (user == 0) {
        AT(c, s->off_rax, u64) = 0;
        return 1;
    }
    if (!block_address(s, user)) return 0;
    /* The block's slot is usually out of the caches (the table is large, the block old): it comes
     * in while the walk memo is looked up (the stack words it compares are warm). */
    u64 tag = *(const u64 *)(user - 8);
    if (tag < (u64)s->used) prefetch_write(&s->slots[tag]);
    prefetch_recycled(s);
    i32 stack = remembered_stack(s, c);
    if (stack < 0) return 0;
    i64 slot = freeable(s, user, f->kind);
    if (slot < 0) return 0;
    release(s, slot, stack);
    AT(c, s->off_rax, u64) = 0;
    return 1;
}

/* Whether every lane of the shadow of [user, user + n) (user 4-aligned) is Defined or Undefined:
 * no partly defined byte (side-table bits) and nothing unaddressable, so copying the lanes is all
 * MemoryDefinedness.Copy would do. With definedness off (no copy), only Defined lanes. */
static int plain_lanes(const struct heap_state *s, u64 user, u64 n)
{
    const u8 *q = s->shadow_base + (user >> 2);
    u64 whole = n >> 2, i = 0;
    u64 bad = s->definedness ? 0xAAAAAAAAAAAAAAAAull : ~0ull;
    for (; i + 8 <= whole; i += 8)
        if (*(const u64 *)(q + i) & bad) return 0;
    for (; i < whole; i++)
        if (q[i] & (u8)bad) return 0;
    if (n & 3) {
        u8 mask = (u8)((1u << (2 * (n & 3))) - 1);
        if (q[whole] & mask & (u8)bad) return 0;
    }
    return 1;
}

/* ShadowMemory.Copy of the lanes of n bytes from `from` to `to` (both 4-aligned); the lanes of the
 * last shadow byte past n keep theirs. */
static void copy_lanes(const struct heap_state *s, u64 from, u64 to, u64 n)
{
    const u8 *src = s->shadow_base + (from >> 2);
    u8 *dst = s->shadow_base + (to >> 2);
    u64 whole = n >> 2;
    for (u64 i = 0; i < whole; i++) dst[i] = src[i];
    if (n & 3) {
        u8 mask = (u8)((1u << (2 * (n & 3))) - 1);
        dst[whole] = (u8)((dst[whole] & ~mask) | (src[whole] & mask));
    }
}

/*
 * realloc as HeapFunctions.Realloc does it: realloc(NULL, n) is malloc; of a live malloc-family
 * block, a new block (placed first), the kept bytes and their definedness copied, then the old
 * block freed, both under the one callstack. A size of 0, an invalid or mismatched pointer, a
 * partly defined byte among the kept ones: the C# handler.
 */
static int reallocate(struct heap_state *s, void *c, const struct fast_function *f)
{
    u64 old = AT(c, s->off_rdi, u64), size = AT(c, s->off_rsi, u64);
    struct placement p;
    if (old == 0) {
        if (!place(s, size, &p)) return 0;
        prefetch_claim(s, &p);
        i32 stack = remembered_stack(s, c);
        if (stack < 0) return 0;
        AT(c, s->off_rax, u64) = claim(s, &p, f, stack, (u8)s->fresh_pattern);
        return 1;
    }
    if (size == 0 || !block_address(s, old)) return 0;
    u64 tag = *(const u64 *)(old - 8);
    if (tag < (u64)s->used) prefetch_write(&s->slots[tag]);
    if (!place(s, size, &p)) return 0;
    prefetch_claim(s, &p);
    i32 stack = remembered_stack(s, c);
    if (stack < 0) return 0;
    /* Placing the new block first only shortens lists and the free slots: what freeable checked
     * still holds after the claim. */
    i64 slot = freeable(s, old, f->kind);
    if (slot < 0) return 0;
    u64 old_size = entry_size(&s->slots[slot]);
    u64 kept = size < old_size ? size : old_size;
    if (s->shadow_base && !plain_lanes(s, old, kept)) return 0;
    u64 user = claim(s, &p, f, stack, (u8)s->fresh_pattern);
    {
        u8 *d = (u8 *)user;
        const u8 *from = (const u8 *)old;
        u64 n = kept;
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(from), "+c"(n) : : "memory");
    }
    if (s->shadow_base && s->definedness) copy_lanes(s, old, user, kept);
    release(s, slot, stack);
    AT(c, s->off_rax, u64) = user;
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
    AT(c, s->off_rax, u64) = s->slots[slot].freed ? 0 : entry_size(&s->slots[slot]);
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
    case OP_REALLOCATE: done = reallocate(s, context, f); break;
    case OP_ALLOCATE_CLEARED: done = allocate_cleared(s, context, f); break;
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
