using Checker.Engine.Native;
using Checker.Engine.Interception;
using Checker.Engine.State;

namespace Checker.Engine.Heap;

/// <summary>
/// The table of replaced allocation functions: each symbol name with the family it belongs to and
/// what it does, from glibc's malloc family and every libstdc++ operator new/delete variant
/// (nothrow, sized, aligned). One row per name; the handlers share the allocator.
/// </summary>
public sealed unsafe class HeapFunctions(GuestHeap heap, ulong stackTop, int callstackFrames, Checker.Symbols.Unwinding.FrameRuleCache? rules = null)
{
    private const ulong EINVAL = 22, ENOMEM = 12;

    public IReadOnlyList<InterceptedFunction> All()
    {
        var all = new List<InterceptedFunction>();
        // name, family, alignment argument (0: none), size argument
        foreach (string n in new[] { "malloc", "__libc_malloc" }) all.Add(Alloc(n, AllocationKind.Malloc, sizeArg: 0));
        foreach (string n in new[] { "_Znwm", "_ZnwmRKSt9nothrow_t" }) all.Add(Alloc(n, AllocationKind.New, sizeArg: 0));
        foreach (string n in new[] { "_Znam", "_ZnamRKSt9nothrow_t" }) all.Add(Alloc(n, AllocationKind.NewArray, sizeArg: 0));
        foreach (string n in new[] { "_ZnwmSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t" }) all.Add(AlignedAlloc(n, AllocationKind.New, alignArg: 1, sizeArg: 0));
        foreach (string n in new[] { "_ZnamSt11align_val_t", "_ZnamSt11align_val_tRKSt9nothrow_t" }) all.Add(AlignedAlloc(n, AllocationKind.NewArray, alignArg: 1, sizeArg: 0));
        foreach (string n in new[] { "memalign", "__libc_memalign", "aligned_alloc" }) all.Add(AlignedAlloc(n, AllocationKind.Malloc, alignArg: 0, sizeArg: 1));
        all.Add(new("valloc", c => Allocate(c, "valloc", Arg(c, 0), 4096, AllocationKind.Malloc)));
        all.Add(new("pvalloc", c => Allocate(c, "pvalloc", (Arg(c, 0) + 4095) & ~4095UL, 4096, AllocationKind.Malloc)));
        foreach (string n in new[] { "calloc", "__libc_calloc" }) all.Add(new(n, c => Calloc(c, n)));
        foreach (string n in new[] { "realloc", "__libc_realloc" }) all.Add(new(n, c => Realloc(c, n, Arg(c, 0), Arg(c, 1))));
        all.Add(new("reallocarray", c => Arg(c, 2) != 0 && Arg(c, 1) > ulong.MaxValue / Arg(c, 2) ? 0 : Realloc(c, "reallocarray", Arg(c, 0), Arg(c, 1) * Arg(c, 2))));
        all.Add(new("posix_memalign", PosixMemalign));
        foreach (string n in new[] { "free", "__libc_free", "cfree" }) all.Add(Free(n, AllocationKind.Malloc));
        foreach (string n in new[] { "_ZdlPv", "_ZdlPvm", "_ZdlPvRKSt9nothrow_t", "_ZdlPvSt11align_val_t", "_ZdlPvmSt11align_val_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t" })
            all.Add(Free(n, AllocationKind.New));
        foreach (string n in new[] { "_ZdaPv", "_ZdaPvm", "_ZdaPvRKSt9nothrow_t", "_ZdaPvSt11align_val_t", "_ZdaPvmSt11align_val_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t" })
            all.Add(Free(n, AllocationKind.NewArray));
        all.Add(new("malloc_usable_size", c => heap.FindLive(Arg(c, 0))?.Size ?? 0));
        return all;
    }

    private static ulong Arg(ContextBlock* c, int index) => index switch
    {
        0 => c->Rdi, 1 => c->Rsi, 2 => c->Rdx, 3 => c->Rcx, 4 => c->R8, _ => c->R9,
    };

    private ulong[] Stack(ContextBlock* c) => CallstackCapture.Capture(c, stackTop, callstackFrames, rules);

    private InterceptedFunction Alloc(string name, AllocationKind kind, int sizeArg) =>
        new(name, c => Allocate(c, name, Arg(c, sizeArg), 16, kind));

    private InterceptedFunction AlignedAlloc(string name, AllocationKind kind, int alignArg, int sizeArg) =>
        new(name, c => Allocate(c, name, Arg(c, sizeArg), Arg(c, alignArg), kind));

    private InterceptedFunction Free(string name, AllocationKind kind) =>
        new(name, c => { heap.Free(Arg(c, 0), kind, name, Stack(c)); return 0; });

    private ulong Allocate(ContextBlock* c, string name, ulong size, ulong alignment, AllocationKind kind)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) return 0;
        return heap.Allocate(size, alignment, kind, Stack(c));
    }

    private ulong Calloc(ContextBlock* c, string name)
    {
        ulong count = Arg(c, 0), size = Arg(c, 1);
        if (size != 0 && count > ulong.MaxValue / size) return 0;
        ulong user = heap.Allocate(count * size, 16, AllocationKind.Malloc, Stack(c));
        if (user != 0) new Span<byte>((void*)user, checked((int)Math.Min(count * size, int.MaxValue))).Clear();
        return user;
    }

    /// <summary>realloc always moves, so stale pointers to the old block point at freed memory.</summary>
    private ulong Realloc(ContextBlock* c, string name, ulong old, ulong size)
    {
        ulong[] stack = Stack(c);
        if (old == 0) return heap.Allocate(size, 16, AllocationKind.Malloc, stack);
        HeapChunk? chunk = heap.FindLive(old);
        if (chunk == null)
        {
            heap.Free(old, AllocationKind.Malloc, name, stack);   // reports the invalid argument
            return 0;
        }
        if (size == 0)
        {
            heap.Free(old, AllocationKind.Malloc, name, stack);
            return 0;
        }
        ulong user = heap.Allocate(size, 16, AllocationKind.Malloc, stack);
        if (user == 0) return 0;
        Buffer.MemoryCopy((void*)old, (void*)user, (long)size, (long)Math.Min(size, chunk.Size));
        heap.Free(old, AllocationKind.Malloc, name, stack);
        return user;
    }

    private ulong PosixMemalign(ContextBlock* c)
    {
        ulong alignment = Arg(c, 1);
        if (alignment < 8 || (alignment & (alignment - 1)) != 0) return EINVAL;
        ulong user = heap.Allocate(Arg(c, 2), alignment, AllocationKind.Malloc, Stack(c));
        if (user == 0) return ENOMEM;
        if (!GuestMemory.TryWriteUInt64(Arg(c, 0), user))
        {
            heap.Free(user, AllocationKind.Malloc, "posix_memalign", Stack(c));
            throw new Dispatch.GuestMemoryFault(Arg(c, 0), 8, write: true);
        }
        return 0;
    }
}
