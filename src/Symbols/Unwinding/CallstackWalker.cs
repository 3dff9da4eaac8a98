using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Checker.Symbols.Unwinding;

/// <summary>Limits of a <see cref="CallstackWalker"/>.</summary>
public sealed record CallstackWalkerOptions
{
    /// <summary>Frames returned at most (innermost included), unless a walk asks otherwise.</summary>
    public int MaxFrames { get; init; } = 12;

    /// <summary>Stack words the scan fallback looks at, from the frame's sp up, for one frame.</summary>
    public int MaxScanWords { get; init; } = 512;

    /// <summary>
    /// The end (highest address, exclusive) of the thread's stack when known: frame pointers and
    /// CFAs beyond it stop the walk. Null: frames may be at most <see cref="MaxFrameSize"/> apart.
    /// </summary>
    public ulong? StackEnd { get; init; }

    /// <summary>The largest distance a caller's frame pointer may be above the callee's sp.</summary>
    public ulong MaxFrameSize { get; init; } = 1 << 20;
}

/// <summary>
/// Walks the callstack of a thread whose memory <see cref="IMemoryReader"/> reads (the guest's, in
/// the tool's own process), from the registers of its innermost frame. For each frame, in order:
/// <list type="number">
/// <item><b>CFI</b>: the .eh_frame of the module holding the pc (read through libdw, cached per
/// module) gives the caller's CFA, return address (at CFA-8) and the callee-saved registers;</item>
/// <item><b>frame pointer</b>, when the pc has no CFI (JIT code, hand-written assembly): the
/// return address at rbp+8 and the caller's rbp at rbp, if the chain looks sane (rbp aligned,
/// at or above sp and so above the previous frame's rbp, within the stack, the return address in a module).
/// For the innermost frame only, a pc at <c>push rbp</c> (or an endbr64 before it) or at
/// <c>mov rbp,rsp</c> means the frame is not set up yet: the return address is at rsp or rsp+8;</item>
/// <item><b>scan</b>: the first stack word above sp that points into a module just after a call
/// instruction (E8 rel32 or an FF /2 form), as Dr. Memory does; a guess, marked as such.</item>
/// </list>
/// The walk stops at the frame limit, at a return address of 0 or outside every module, or when
/// the stack pointer does not grow. Frames after the first carry return addresses: CFI lookups and
/// symbolization use <see cref="UnwoundFrame.LookupPc"/> (pc - 1), inside the call instruction.
/// Thread-safe; dispose to release the cached CFI.
/// </summary>
public sealed class CallstackWalker : IDisposable
{
    private readonly IMemoryReader _memory;
    private readonly Func<ulong, (string Path, ulong LoadBias)?> _moduleLookup;
    private readonly CallstackWalkerOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<ModuleCfi?>> _cfi = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <param name="memory">Reads the stack (and, for the fallbacks, the code before return addresses).</param>
    /// <param name="moduleLookup">The ELF file and load bias of the module holding a code address, or null outside every module.</param>
    /// <param name="options">Limits; defaults when null.</param>
    public CallstackWalker(IMemoryReader memory, Func<ulong, (string Path, ulong LoadBias)?> moduleLookup, CallstackWalkerOptions? options = null)
    {
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        _moduleLookup = moduleLookup ?? throw new ArgumentNullException(nameof(moduleLookup));
        _options = options ?? new CallstackWalkerOptions();
    }

    /// <summary>The frames from <paramref name="registers"/> outwards, innermost first (never empty).</summary>
    /// <param name="registers">The innermost frame's registers; rip, rsp and rbp at least.</param>
    /// <param name="maxFrames">Frames at most; null for the options' limit (12 by default).</param>
    public IReadOnlyList<UnwoundFrame> Walk(UnwindRegisters registers, int? maxFrames = null) => Walk(registers, maxFrames, null, null);

    /// <summary>
    /// As <see cref="Walk(UnwindRegisters, int?)"/>, with each frame's registers as unwinding
    /// restored them (the innermost frame's are <paramref name="registers"/>; a caller's callee-saved
    /// registers are known where CFI says where they were saved).
    /// </summary>
    /// <param name="isLast">Ends the walk at the first frame it accepts (that frame included): a
    /// caller that needs only the frames up to some function spares the rest, whose stack scan
    /// (beyond the outermost CFI) reads word by word.</param>
    public IReadOnlyList<(UnwoundFrame Frame, UnwindRegisters Registers)> WalkWithRegisters(UnwindRegisters registers, int? maxFrames = null,
        Func<UnwoundFrame, bool>? isLast = null)
    {
        var frameRegisters = new List<UnwindRegisters>();
        IReadOnlyList<UnwoundFrame> frames = Walk(registers, maxFrames, frameRegisters, isLast);
        return frames.Select((f, i) => (f, frameRegisters[i])).ToList();
    }

    private IReadOnlyList<UnwoundFrame> Walk(UnwindRegisters registers, int? maxFrames, List<UnwindRegisters>? frameRegisters, Func<UnwoundFrame, bool>? isLast)
    {
        ArgumentNullException.ThrowIfNull(registers);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int limit = maxFrames ?? _options.MaxFrames;
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1, nameof(maxFrames));

        var frames = new List<UnwoundFrame> { new(registers.Rip, registers.Rsp, UnwindMethod.Registers, false) };
        UnwindRegisters current = registers.Clone();
        frameRegisters?.Add(registers.Clone());
        ulong stackEnd = _options.StackEnd ?? SaturatingAdd(registers.Rsp, _options.MaxFrameSize * (ulong)limit);
        while (frames.Count < limit)
        {
            UnwoundFrame frame = frames[^1];
            if (isLast?.Invoke(frame) == true) break;
            if (!TryStep(frame, current, frames.Count == 1, stackEnd, out UnwindRegisters? caller, out UnwindMethod method, out bool exact))
                break;
            if (caller.Rsp <= current.Rsp || caller.Rsp > stackEnd) break;
            if (caller.Rip == 0 || _moduleLookup(caller.Rip) == null) break;
            frames.Add(new UnwoundFrame(caller.Rip, caller.Rsp, method, !exact));
            frameRegisters?.Add(caller.Clone());
            current = caller;
        }
        return frames;
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (Lazy<ModuleCfi?> cfi in _cfi.Values)
        {
            if (!cfi.IsValueCreated || cfi.Value is not { } module) continue;
            lock (module) module.Dispose();
        }
        _cfi.Clear();
    }

    private bool TryStep(UnwoundFrame frame, UnwindRegisters current, bool innermost, ulong stackEnd,
        [NotNullWhen(true)] out UnwindRegisters? caller, out UnwindMethod method, out bool exact)
    {
        exact = false;
        current.Rip = frame.Pc;
        if (_moduleLookup(frame.LookupPc) is { } module && GetCfi(module.Path) is { } cfi)
        {
            lock (cfi)
            {
                if (!_disposed && cfi.TryStep(frame.LookupPc - module.LoadBias, current, _memory, out caller, out exact))
                {
                    method = UnwindMethod.Cfi;
                    return true;
                }
            }
        }

        exact = false;
        if (TryFramePointer(current, innermost, stackEnd, out caller))
        {
            method = UnwindMethod.FramePointer;
            return true;
        }
        method = UnwindMethod.Scan;
        return TryScan(current, stackEnd, out caller);
    }

    private ModuleCfi? GetCfi(string path) =>
        _cfi.GetOrAdd(path, p => new Lazy<ModuleCfi?>(() => ModuleCfi.Open(p))).Value;

    private bool TryFramePointer(UnwindRegisters current, bool innermost, ulong stackEnd, [NotNullWhen(true)] out UnwindRegisters? caller)
    {
        caller = null;
        ulong sp = current.Rsp;
        // A call to an address outside every module (a NULL or wild function pointer): the pc is
        // the bad target and the caller's return address is still at [rsp]. The frame-pointer
        // chain would skip that caller (its rbp is its own caller's frame).
        if (innermost && _moduleLookup(current.Rip) == null && _memory.TryReadUInt64(sp, out ulong pushed)
            && _moduleLookup(pushed) != null && FollowsCall(pushed))
        {
            caller = current.Clone();
            caller.Rip = pushed;
            caller.Rsp = sp + 8;
            ClearCallerSaved(caller);
            return true;
        }
        if (innermost && _memory.TryReadUInt64(current.Rip, out ulong code))
        {
            // Not set up yet: at "push rbp" (optionally after endbr64) or at "mov rbp,rsp" right after it.
            ulong? returnSlot =
                (code & 0xff) == 0x55 || (code & 0xff_ffff_ffff) == 0x55_fa1e0ff3 ? sp
                : (code & 0xff_ffff) == 0xe5_89_48 && _memory.TryReadUInt64(current.Rip - 1, out ulong before) && (before & 0xff) == 0x55 ? sp + 8
                : null;
            if (returnSlot is { } slot && _memory.TryReadUInt64(slot, out ulong entryReturn) && _moduleLookup(entryReturn) != null)
            {
                caller = current.Clone();
                caller.Rip = entryReturn;
                caller.Rsp = slot + 8;
                ClearCallerSaved(caller);
                return true;
            }
        }

        if (current.Rbp is not { } rbp) return false;
        if (rbp % 8 != 0 || rbp < sp || rbp - sp > _options.MaxFrameSize || rbp + 16 > stackEnd) return false;
        if (!_memory.TryReadUInt64(rbp, out ulong savedRbp) || !_memory.TryReadUInt64(rbp + 8, out ulong returnAddress)) return false;
        // The saved rbp is checked on the next step (it must be above that frame's sp), not here:
        // the outermost frame-pointer frame's caller may not keep a frame pointer at all.
        if (returnAddress == 0 || _moduleLookup(returnAddress) == null) return false;

        caller = current.Clone();
        caller.Rip = returnAddress;
        caller.Rsp = rbp + 16;
        caller.Rbp = savedRbp;
        ClearCallerSaved(caller);
        return true;
    }

    private bool TryScan(UnwindRegisters current, ulong stackEnd, [NotNullWhen(true)] out UnwindRegisters? caller)
    {
        caller = null;
        ulong address = current.Rsp;
        for (int i = 0; i < _options.MaxScanWords && address + 8 <= stackEnd; i++, address += 8)
        {
            if (!_memory.TryReadUInt64(address, out ulong candidate)) return false;
            if (candidate < 8 || _moduleLookup(candidate) == null || !FollowsCall(candidate)) continue;

            caller = current.Clone();
            caller.Rip = candidate;
            caller.Rsp = address + 8;
            ClearCallerSaved(caller);
            return true;
        }
        return false;
    }

    /// <summary>
    /// True when the bytes before <paramref name="returnAddress"/> encode a call ending there:
    /// E8 rel32, or FF /2 (call r/m64) with any ModRM/SIB/displacement form, with or without a REX
    /// prefix (which the length check ignores as it precedes the FF).
    /// </summary>
    internal bool FollowsCall(ulong returnAddress)
    {
        if (!_memory.TryReadUInt64(returnAddress - 8, out ulong word)) return false;
        Span<byte> bytes = stackalloc byte[8]; // bytes[8 - k] is the byte at returnAddress - k
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, word);
        if (bytes[8 - 5] == 0xE8) return true;
        for (int length = 2; length <= 7; length++)
        {
            int at = 8 - length;
            if (bytes[at] != 0xFF) continue;
            byte modrm = bytes[at + 1];
            if (((modrm >> 3) & 7) != 2) continue;
            byte? sib = at + 2 < 8 ? bytes[at + 2] : null;
            if (CallLength(modrm, sib) == length) return true;
        }
        return false;
    }

    /// <summary>The length of FF /2 with this ModRM (and SIB when there is one), or 0 when the SIB is needed but absent.</summary>
    private static int CallLength(byte modrm, byte? sib)
    {
        int mod = modrm >> 6, rm = modrm & 7;
        if (mod == 3) return 2;
        if (rm == 4)
        {
            if (sib is not { } s) return 0;
            return mod switch
            {
                0 => (s & 7) == 5 ? 7 : 3,
                1 => 4,
                _ => 7,
            };
        }
        return mod switch
        {
            0 => rm == 5 ? 6 : 2,
            1 => 3,
            _ => 6,
        };
    }

    /// <summary>After a frame-pointer or scan step only rip, rsp and rbp are known; callee-saved registers are kept as a guess, the rest dropped.</summary>
    private static void ClearCallerSaved(UnwindRegisters registers)
    {
        foreach (DwarfRegister r in (ReadOnlySpan<DwarfRegister>)[DwarfRegister.Rax, DwarfRegister.Rdx, DwarfRegister.Rcx, DwarfRegister.Rsi,
                     DwarfRegister.Rdi, DwarfRegister.R8, DwarfRegister.R9, DwarfRegister.R10, DwarfRegister.R11])
            registers[r] = null;
    }

    private static ulong SaturatingAdd(ulong a, ulong b) => a + b < a ? ulong.MaxValue : a + b;
}
