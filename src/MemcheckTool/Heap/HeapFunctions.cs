using System.Runtime.CompilerServices;
using Checker.Engine.Native;
using Checker.Engine.Interception;
using Checker.Engine.State;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The table of replaced allocation functions: each symbol name with the family it belongs to and
/// what it does, from glibc's malloc family (with its statistics: mallinfo, mallinfo2,
/// malloc_usable_size, malloc_trim) and every libstdc++ operator new/delete variant (nothrow,
/// sized, aligned). One row per name; the handlers share the allocator. Failures return what
/// glibc 2.36 returns and set errno as it does; sizes with the top bit set (negative numbers passed
/// as size_t), overflowing count * size and bad alignments are reported as fishy arguments first,
/// as Valgrind does.
/// </summary>
/// <param name="throwBadAlloc">libstdc++'s std::__throw_bad_alloc once a module defines it: where a
/// throwing operator new that cannot allocate goes on, so the program's catch sees std::bad_alloc.</param>
/// <param name="definedness">Under definedness checking: the checks, read when an argument is undefined.</param>
public sealed unsafe class HeapFunctions(GuestHeap heap, int callstackFrames,
    Checker.Symbols.Unwinding.FrameRuleCache? rules = null, GuestErrno? errno = null, Func<ulong?>? throwBadAlloc = null,
    Func<Checker.MemcheckTool.Definedness.DefinednessChecks?>? definedness = null)
{
    private const int EINVAL = 22, ENOMEM = 12;
    private const ulong PageSize = 4096, MallocAlignment = 16, PointerSize = 8;
    // The argument registers' indexes in ContextBlock.Gpr: the handlers read them directly (ILC left
    // the Rdi/Rsi properties' getters out of line here, a call per argument).
    private const int RDX = 2, RSI = 6, RDI = 7;

    // Under definedness checking, each handler checks its arguments' definedness first and defines
    // its result last (inline: a wrapper delegate around every handler was a call per malloc).
    private readonly ArgumentDefinedness? _definedness = definedness != null ? new ArgumentDefinedness(definedness) : null;

    public IReadOnlyList<InterceptedFunction> All()
    {
        var all = new List<InterceptedFunction>();
        ConfigureFastPath();
        // Each row's routine number and argument registers are looked up once here, not at every call.
        static byte R(string name) => AllocationRoutines.Number(name);
        static ulong M(string name) => ArgumentDefinedness.ArgumentMask(name);
        foreach (string n in new[] { "malloc", "__libc_malloc" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Allocate(Begin(c, m, n), n, r, c->Gpr[RDI], MallocAlignment, AllocationKind.Malloc))) { FastTag = FastTag(HeapFastPath.Op.Allocate, AllocationKind.Malloc, n) }); }
        foreach (string n in new[] { "_Znwm", "_ZnwmRKSt9nothrow_t" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Allocate(Begin(c, m, n), n, r, c->Gpr[RDI], MallocAlignment, AllocationKind.New))) { FastTag = FastTag(HeapFastPath.Op.Allocate, AllocationKind.New, n) }); }
        foreach (string n in new[] { "_Znam", "_ZnamRKSt9nothrow_t" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Allocate(Begin(c, m, n), n, r, c->Gpr[RDI], MallocAlignment, AllocationKind.NewArray))) { FastTag = FastTag(HeapFastPath.Op.Allocate, AllocationKind.NewArray, n) }); }
        foreach (string n in new[] { "_ZnwmSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Aligned(Begin(c, m, n), n, r, c->Gpr[RSI], c->Gpr[RDI], AllocationKind.New)))); }
        foreach (string n in new[] { "_ZnamSt11align_val_t", "_ZnamSt11align_val_tRKSt9nothrow_t" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Aligned(Begin(c, m, n), n, r, c->Gpr[RSI], c->Gpr[RDI], AllocationKind.NewArray)))); }
        foreach (string n in new[] { "memalign", "__libc_memalign", "aligned_alloc" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Aligned(Begin(c, m, n), n, r, c->Gpr[RDI], c->Gpr[RSI], AllocationKind.Malloc)))); }
        foreach (string n in new[] { "valloc", "__libc_valloc" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Allocate(Begin(c, m, n), n, r, c->Gpr[RDI], PageSize, AllocationKind.Malloc)))); }
        foreach (string n in new[] { "pvalloc", "__libc_pvalloc" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Pvalloc(Begin(c, m, n), n, r, c->Gpr[RDI])))); }
        foreach (string n in new[] { "calloc", "__libc_calloc" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Calloc(Begin(c, m, n), n, r))) { FastTag = FastTag(HeapFastPath.Op.AllocateCleared, AllocationKind.Malloc, n) }); }
        foreach (string n in new[] { "realloc", "__libc_realloc" }) { byte r = R(n); ulong m = M(n); all.Add(new(n, c => Done(c, Realloc(Begin(c, m, n), n, r, c->Gpr[RDI], c->Gpr[RSI]))) { FastTag = FastTag(HeapFastPath.Op.Reallocate, AllocationKind.Malloc, n) }); }
        byte reallocarray = R("reallocarray");
        ulong reallocarrayMask = M("reallocarray");
        all.Add(new("reallocarray", c => Done(c, Overflows(Begin(c, reallocarrayMask, "reallocarray"), "reallocarray", "nmemb", c->Gpr[RSI], "size", c->Gpr[RDX])
            ? Fail(c, ENOMEM) : Realloc(c, "reallocarray", reallocarray, c->Gpr[RDI], c->Gpr[RSI] * c->Gpr[RDX]))));
        ulong posixMemalignMask = M("posix_memalign");
        all.Add(new("posix_memalign", c => Done(c, PosixMemalign(Begin(c, posixMemalignMask, "posix_memalign")))));
        foreach (string n in new[] { "free", "__libc_free", "cfree" }) all.Add(Free(n, AllocationKind.Malloc));
        foreach (string n in new[] { "_ZdlPv", "_ZdlPvm", "_ZdlPvRKSt9nothrow_t", "_ZdlPvSt11align_val_t", "_ZdlPvmSt11align_val_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t" })
            all.Add(Free(n, AllocationKind.New));
        foreach (string n in new[] { "_ZdaPv", "_ZdaPvm", "_ZdaPvRKSt9nothrow_t", "_ZdaPvSt11align_val_t", "_ZdaPvmSt11align_val_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t" })
            all.Add(Free(n, AllocationKind.NewArray));
        // Valgrind's replacement answers the size asked for, not glibc's rounded-up chunk size.
        ulong usableMask = M("malloc_usable_size");
        all.Add(new("malloc_usable_size", c => Done(c, heap.TryGetLiveSize(Begin(c, usableMask, "malloc_usable_size")->Rdi, out ulong size) ? size : 0))
        {
            FastTag = FastTag(HeapFastPath.Op.UsableSize, AllocationKind.Malloc, "malloc_usable_size"),
        });
        all.Add(new("malloc_trim", c => Done(c, heap.Trim() ? 1UL : 0)));
        foreach (string n in new[] { "mallinfo", "__libc_mallinfo" }) all.Add(new(n, c => Done(c, MallocInfo(c, wide: false))));
        all.Add(new("mallinfo2", c => Done(c, MallocInfo(c, wide: true))));
        return all;
    }

    /// <summary>A handler's start: its arguments' definedness checked (when it is).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ContextBlock* Begin(ContextBlock* c, ulong arguments, string name)
    {
        _definedness?.Check(c, arguments, name);
        return c;
    }

    /// <summary>A handler's end: its result defined (when definedness is checked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Done(ContextBlock* c, ulong result)
    {
        _definedness?.DefineResult(c);
        return result;
    }

    private static ulong Arg(ContextBlock* c, int index) => index switch
    {
        0 => c->Rdi, 1 => c->Rsi, 2 => c->Rdx, 3 => c->Rcx, 4 => c->R8, _ => c->R9,
    };

    /// <summary>The caller's callstack, by its number in the <see cref="CallstackTable"/>.</summary>
    private int Stack(ContextBlock* c)
    {
        int stack = CallstackCapture.CaptureId(c, c->UnwindTop, callstackFrames, rules);
        // The memo this walk used (or remembered it in), for the native fast path's next lookups.
        Checker.MemcheckTool.State.MemcheckSlots.At<nint>(c, Checker.MemcheckTool.State.MemcheckSlots.HeapWalkMemo) = (nint)WalkMemo.For(rules).View;
        return stack;
    }

    private int _fastTags;

    /// <summary>
    /// A row of the native fast path (<see cref="HeapFastPath"/>): its fast tag, which the engine's
    /// InterceptCall routine hands to it with the call.
    /// </summary>
    private int FastTag(HeapFastPath.Op op, AllocationKind kind, string name)
    {
        HeapFastPath.State* s = heap.FastPathState;
        int tag = ++_fastTags;
        if (tag >= HeapFastPath.MaxTags) return 0;
        s->Functions[tag] = new HeapFastPath.Function
        {
            ArgumentBits = _definedness != null ? ArgumentDefinedness.ArgumentMask(name) : 0,
            Operation = op,
            Kind = kind,
            Routine = AllocationRoutines.Number(name),
        };
        return tag;
    }

    /// <summary>What the native fast path needs besides the heap: the callstack depth, where the walk memo and the register shadows are.</summary>
    private void ConfigureFastPath()
    {
        HeapFastPath.State* s = heap.FastPathState;
        s->MaxFrames = callstackFrames;
        s->OffMemo = Checker.MemcheckTool.State.MemcheckSlots.HeapWalkMemo;
        if (_definedness != null)
        {
            s->Definedness = 1;
            s->OffDirty = Checker.MemcheckTool.State.MemcheckSlots.Dirty;
            s->OffRaxShadow = _definedness.ResultSlot;
            s->RaxDirtyBit = _definedness.ResultBit;
        }
    }

    private InterceptedFunction Free(string name, AllocationKind kind)
    {
        ulong arguments = ArgumentDefinedness.ArgumentMask(name);
        return new(name, c =>
        {
            ulong pointer = Begin(c, arguments, name)->Rdi;
            heap.Prefetch(pointer);   // the block's slot comes in while the callstack is captured
            heap.Free(pointer, kind, name, Stack(c));
            return Done(c, 0);
        })
        { FastTag = FastTag(HeapFastPath.Op.Free, kind, name) };
    }

    /// <summary>glibc's failure: NULL, with errno set.</summary>
    private ulong Fail(ContextBlock* c, int error)
    {
        errno?.Set(c, error);
        return 0;
    }

    private ulong Allocate(ContextBlock* c, string name, byte routine, ulong size, ulong alignment, AllocationKind kind)
    {
        if (Fishy(c, name, "size", size)) return FailAllocation(c, name, kind);
        ulong user = heap.Allocate(size, alignment, kind, Stack(c), routine);
        return user != 0 ? user : FailAllocation(c, name, kind);
    }

    /// <summary>
    /// malloc's failure is NULL and ENOMEM; a throwing operator new's is std::bad_alloc, thrown by
    /// libstdc++ itself (a tail call to std::__throw_bad_alloc, so the unwinder starts at the
    /// program's call). The nothrow variants return NULL. (The new_handler loop is not run.)
    /// </summary>
    private ulong FailAllocation(ContextBlock* c, string name, AllocationKind kind)
    {
        if (kind != AllocationKind.Malloc && !name.Contains("nothrow", StringComparison.Ordinal) && throwBadAlloc?.Invoke() is ulong thrower)
            Checker.Engine.Interception.FunctionInterceptor.RequestTailCall(thrower);
        return Fail(c, ENOMEM);
    }

    /// <summary>pvalloc: whole pages.</summary>
    private ulong Pvalloc(ContextBlock* c, string name, byte routine, ulong size)
    {
        if (Fishy(c, name, "size", size)) return Fail(c, ENOMEM);
        ulong pages = (size + PageSize - 1) & ~(PageSize - 1);
        return (long)pages < 0 ? Fail(c, ENOMEM) : Allocate(c, name, routine, pages, PageSize, AllocationKind.Malloc);
    }

    /// <summary>memalign, aligned_alloc, aligned new: glibc (2.36) rounds an alignment that is not a power of two up to one, and refuses one above 2^63.</summary>
    private ulong Aligned(ContextBlock* c, string name, byte routine, ulong alignment, ulong size, AllocationKind kind)
    {
        if (alignment != 0 && (alignment & (alignment - 1)) != 0)
        {
            Report(c, name, new FishyArgument("alignment", alignment, FishyReason.BadAlignment));
            if (alignment > (1UL << 63)) return Fail(c, EINVAL);
            alignment = 1UL << (64 - System.Numerics.BitOperations.LeadingZeroCount(alignment));
        }
        return Allocate(c, name, routine, size, Math.Max(alignment, MallocAlignment), kind);
    }

    private ulong Calloc(ContextBlock* c, string name, byte routine)
    {
        ulong count = Arg(c, 0), size = Arg(c, 1);
        if (Fishy(c, name, "nmemb", count) || Fishy(c, name, "size", size) || Overflows(c, name, "nmemb", count, "size", size))
            return Fail(c, ENOMEM);
        int stack = Stack(c);
        ulong user = heap.Allocate(count * size, MallocAlignment, AllocationKind.Malloc, stack, routine);
        if (user == 0) return Fail(c, ENOMEM);
        if (heap.MayBeProtectedByProgram) ClearFaultRecovering(user, count * size, name, stack);
        else
        {
            for (ulong done = 0, total = count * size; done < total;)
            {
                int chunk = (int)Math.Min(total - done, int.MaxValue);
                new Span<byte>((void*)(user + done), chunk).Clear();
                done += (ulong)chunk;
            }
        }
        heap.Define(user, count * size);
        return user;
    }

    private static readonly byte[] Zeros = new byte[64 << 10];

    // calloc's clearing once the program has protected heap memory: natively calloc's own clearing
    // would fault there, so a fault is the program's SIGSEGV at the call (the block given back).
    private void ClearFaultRecovering(ulong user, ulong total, string name, int stack)
    {
        for (ulong done = 0; done < total;)
        {
            int chunk = (int)Math.Min(total - done, (ulong)Zeros.Length);
            if (!GuestMemory.TryWrite(user + done, Zeros.AsSpan(0, chunk)))
            {
                heap.Free(user, AllocationKind.Malloc, name, stack);
                throw new Checker.Engine.Dispatch.GuestMemoryFault(user + done, chunk, write: true);
            }
            done += (ulong)chunk;
        }
    }

    /// <summary>realloc always moves, so stale pointers to the old block point at freed memory.</summary>
    private ulong Realloc(ContextBlock* c, string name, byte routine, ulong old, ulong size)
    {
        if (Fishy(c, name, "size", size)) return Fail(c, ENOMEM);   // the old block stays, as glibc leaves it
        int stack = Stack(c);
        if (old == 0) return heap.Allocate(size, MallocAlignment, AllocationKind.Malloc, stack, routine) is ulong fresh and not 0 ? fresh : Fail(c, ENOMEM);
        if (!heap.TryGetLiveSize(old, out ulong oldSize))
        {
            heap.Free(old, AllocationKind.Malloc, name, stack);   // reports the invalid argument
            return 0;
        }
        if (size == 0)
        {
            heap.Free(old, AllocationKind.Malloc, name, stack);
            return 0;
        }
        ulong user = heap.Allocate(size, MallocAlignment, AllocationKind.Malloc, stack, routine);
        if (user == 0) return Fail(c, ENOMEM);
        // Through the fault-recovering copy: the program may have protected its block (mprotect of
        // heap memory); natively realloc's own copy would fault there, so that is the guest's SIGSEGV.
        ulong kept = Math.Min(size, oldSize);
        for (ulong done = 0; done < kept;)
        {
            int chunk = (int)Math.Min(kept - done, int.MaxValue);
            if (!GuestMemory.TryRead(old + done, new Span<byte>((void*)(user + done), chunk)))
            {
                heap.Free(user, AllocationKind.Malloc, name, stack);
                throw new Checker.Engine.Dispatch.GuestMemoryFault(old + done, chunk, write: false);
            }
            done += (ulong)chunk;
        }
        // The kept bytes keep their definedness; growth is undefined, as malloc's bytes.
        heap.CopyDefinedness?.Invoke(old, user, Math.Min(size, oldSize));
        heap.Free(old, AllocationKind.Malloc, name, stack);
        return user;
    }

    /// <summary>posix_memalign returns the error (EINVAL for an alignment that is not a power-of-two multiple of sizeof(void *)) and leaves *memptr alone on failure.</summary>
    private ulong PosixMemalign(ContextBlock* c)
    {
        ulong alignment = Arg(c, 1), size = Arg(c, 2);
        if (alignment < PointerSize || (alignment & (alignment - 1)) != 0)
        {
            Report(c, "posix_memalign", new FishyArgument("alignment", alignment, FishyReason.BadAlignment));
            return EINVAL;
        }
        if (Fishy(c, "posix_memalign", "size", size))
        {
            errno?.Set(c, ENOMEM);   // glibc's inner malloc sets it too
            return ENOMEM;
        }
        ulong user = heap.Allocate(size, Math.Max(alignment, MallocAlignment), AllocationKind.Malloc, Stack(c), AllocationRoutines.Number("posix_memalign"));
        if (user == 0)
        {
            errno?.Set(c, ENOMEM);
            return ENOMEM;
        }
        if (!GuestMemory.TryWriteUInt64(Arg(c, 0), user))
        {
            // glibc's posix_memalign faults writing *memptr: so does the program here, at the function.
            heap.Free(user, AllocationKind.Malloc, "posix_memalign", Stack(c));
            throw new Checker.Engine.Dispatch.GuestMemoryFault(Arg(c, 0), 8, write: true);
        }
        heap.DefineWritten?.Invoke(Arg(c, 0), 8);
        return 0;
    }

    /// <summary>
    /// mallinfo/mallinfo2 (a struct returned through the hidden pointer in rdi): the replacement
    /// heap's figures. arena: the arena's used span; ordblks: free blocks; uordblks: bytes the
    /// program holds (what it asked for); fordblks: bytes of freed blocks held back or free for
    /// reuse; the mmap, fastbin and keepcost fields are 0 (the heap has none of those).
    /// </summary>
    private ulong MallocInfo(ContextBlock* c, bool wide)
    {
        ulong result = Arg(c, 0);
        ulong[] fields = [heap.Top - heap.ArenaStart, (ulong)heap.FreeBlocks, 0, 0, 0, 0, 0, heap.LiveBytes, heap.FreeBytes, 0];
        for (int i = 0; i < fields.Length; i++)
        {
            if (wide) ((ulong*)result)[i] = fields[i];
            else ((int*)result)[i] = (int)fields[i];   // glibc's int fields wrap the same way
        }
        heap.DefineWritten?.Invoke(result, (ulong)fields.Length * (wide ? 8UL : 4UL));
        return result;
    }

    /// <summary>Valgrind's test: a size_t argument with its top bit set is a negative number in disguise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Fishy(ContextBlock* c, string routine, string argument, ulong value)
    {
        if ((long)value >= 0) return false;
        Report(c, routine, new FishyArgument(argument, value, FishyReason.Negative));
        return true;
    }

    private bool Overflows(ContextBlock* c, string routine, string countName, ulong count, string sizeName, ulong size)
    {
        if (size == 0 || count <= ulong.MaxValue / size) return false;
        Report(c, routine, new FishyArgument(countName, count, FishyReason.Overflow, sizeName, size));
        return true;
    }

    private void Report(ContextBlock* c, string routine, FishyArgument fishy) =>
        heap.Errors?.Invoke(new HeapError(HeapErrorKind.FishyArgument, routine, 0, GuestHeap.Stacks[Stack(c)], null, fishy));
}
