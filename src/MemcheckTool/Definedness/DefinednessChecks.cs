using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.Engine.State;
using Checker.Engine.Tools;
using Checker.MemcheckTool.Heap;
using Checker.MemcheckTool.Instrumentation;
using Checker.MemcheckTool.State;
using Checker.Shadow;
using Checker.Symbols.Unwinding;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// Definedness as memcheck tracks it: malloc'd memory starts undefined, mode-0 code runs while every
/// register is defined (stores define what they write, a read of undefined memory switches the
/// thread to the propagating mode at that instruction), the propagating mode computes each
/// instruction's shadows in C# (<see cref="Propagator"/>) until every register is defined again,
/// system calls are checked against the engine's table (<see cref="SyscallChecks"/>).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class DefinednessChecks
{
    private readonly MemoryDefinedness _memory;
    private readonly Propagator _propagator;
    private readonly SyscallChecks _syscalls;
    // The propagating mode's sites in fixed chunks (1,024 instructions, 40 KB: below the
    // large-object threshold): one list doubling to ~10 MB on cc1plus allocated 21 MB of large
    // objects, and large-object allocations are what triggered its full collections.
    private readonly AppendOnlyTable<Instruction> _sites = new();
    private readonly GuestHeap _heap;
    private readonly Checker.Engine.CodeCache.TranslationCache _cache;
    private readonly int _maxFrames;
    private readonly FrameRuleCache _rules;
    private readonly Origins? _origins;

    internal DefinednessChecks(ToolHost host, ShadowMemory shadow, GuestHeap heap, int maxFrames, FrameRuleCache rules, bool trackOrigins = false)
    {
        Origins? origins = trackOrigins ? new Origins { BlockAt = heap.OriginBlockAt, StillHolds = heap.StillHolds, FrameAt = (c, pc, address) => OnStack((ContextBlock*)c, pc, address) } : null;
        _origins = origins;
        TracksOrigins = trackOrigins;
        _heap = heap;
        _cache = host.Cache;
        _maxFrames = maxFrames;
        _rules = rules;
        var heapBits = new HeapVBits(heap.ArenaStart, heap.ArenaEnd);
        _mappings = host.Process.Mappings;
        _modules = host.Process.Modules;
        Globals = new GlobalTaint(host.Cache, _mappings, _modules, OverlapsCurrentStaticTls)
        {
            TlsTaintedNow = () => Volatile.Write(ref *(ulong*)(_staticTlsCell + 8), 1UL),
        };
        // Undefined bytes are kept everywhere; a first one in the static TLS makes its accesses checked (GlobalTaint).
        _memory = new MemoryDefinedness(shadow, _ => true, heapBits);
        _memory.KeptOutsideHeap = Globals.Kept;
        heap.CopyDefinedness = _memory.Copy;
        heap.DefineWritten = _memory.Define;
        PropagateRoutine = PropagationRoutine.Generate(host.Cache.Region, host.Cache.Routines.Exit);
        MoveRoutine = ShadowMoveRoutine.Generate(host.Cache.Region, PropagateRoutine, heap.ArenaStart, heap.ArenaEnd, heapBits.Bias, out _staticTlsCell, out _moduleSpanCell);
        // MEMCHECK_REGISTER_RULES=c#: every register-only instruction exits to C#, to compare the two.
        if (Environment.GetEnvironmentVariable("MEMCHECK_REGISTER_RULES") != "c#") RegisterRoutine = ShadowRegisterRoutine.Generate(host.Cache.Region);
        _propagator = new Propagator(_memory, new UseChecks(_memory, Uninitialized, origins), origins);
        _syscalls = new SyscallChecks(_memory, shadow, host.Process.Mappings,
            Uninitialized,
            (c, pc, what, address, size, parameter) => ParameterErrors?.Invoke(new ParameterAddressError(what, address, size, Stack(c, pc), _heap.FindBlock(address), parameter)),
            origins);
    }

    public Action<UninitializedError>? Errors { get; set; }

    /// <summary>Counters for --stats.</summary>
    public DefinednessStatistics Statistics { get; } = new();

    /// <summary>Memory's definedness, bit-exact (client requests read and set it).</summary>
    internal MemoryDefinedness Memory => _memory;
    public Action<ParameterAddressError>? ParameterErrors { get; set; }

    /// <summary>--track-origins: propagation stays in C#, where origins are followed.</summary>
    public bool TracksOrigins { get; }

    /// <summary>The shared routine the propagating mode's sites jump-and-link to.</summary>
    public ulong PropagateRoutine { get; }

    /// <summary>The propagating mode's register-only rules (<see cref="ShadowRegisterRoutine"/>); 0 when MEMCHECK_REGISTER_RULES=c#.</summary>
    public ulong RegisterRoutine { get; }

    /// <summary>The propagating mode's inline path for plain register/memory moves (<see cref="ShadowMoveRoutine"/>).</summary>
    public ulong MoveRoutine { get; }

    /// <summary>A site of the propagating mode (under the cache lock, while translating).</summary>
    public int AddSite(in Instruction ins) => _sites.Add(ins);

    /// <summary>The instruction of propagation site <paramref name="site"/> (<see cref="AddSite"/>).</summary>
    public Instruction SiteInstruction(int site) => _sites[site];

    /// <summary>A persisted set of propagation sites and the pcs checked apart.</summary>
    public sealed record Snapshot(Instruction[] Sites, ulong[] KeptApart);

    /// <summary>The propagation sites (persisted code names them by id) and what translation learned, for the next run.</summary>
    public void SaveTranslationState(BinaryWriter writer)
    {
        writer.Write(_sites.Count);
        foreach (ReadOnlyMemory<Instruction> chunk in _sites.Chunks())
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunk.Span));
        lock (_keptApart)
        {
            writer.Write(_keptApart.Count);
            foreach (ulong pc in _keptApart) writer.Write(pc);
        }
    }

    public static Snapshot ReadTranslationState(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || reader.BaseStream.CanSeek && (long)count * System.Runtime.CompilerServices.Unsafe.SizeOf<Instruction>() > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException("propagation sites: count");
        var sites = new Instruction[count];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(sites.AsSpan()));
        int kept = reader.ReadInt32();
        if (kept < 0) throw new InvalidDataException("kept-apart pcs");
        var pcs = new ulong[kept];
        for (int i = 0; i < kept; i++) pcs[i] = reader.ReadUInt64();
        return new Snapshot(sites, pcs);
    }

    public void RestoreTranslationState(Snapshot s)
    {
        if (_sites.Count != 0) throw new InvalidOperationException("the propagation sites are in use already");
        _sites.Restore(s.Sites);
        lock (_keptApart)
        {
            foreach (ulong pc in s.KeptApart) AddKeptApart(pc);
            Volatile.Write(ref _keptApartCount, _keptApart.Count);
        }
    }

    private readonly Checker.Engine.Memory.GuestMappings _mappings;

    /// <summary>
    /// Whether the RIP-relative or absolute access of the instruction at <paramref name="pc"/> to
    /// <paramref name="address"/> is checked (<see cref="Instrumentation.MemoryAccessClassifier.ChecksGlobalAt"/>):
    /// where a writable page has held an undefined byte (<see cref="GlobalTaint"/>). What cannot be
    /// written holds no undefined value: constants, the GOT after RELRO, code.
    /// </summary>
    public bool ChecksGlobalAt(ulong address, ulong pc) => Globals.ChecksAt(address, pc);

    /// <summary>The globals' pages that may hold undefined bytes.</summary>
    internal GlobalTaint Globals { get; }

    /// <summary>How many of the modules' data pages have held an undefined byte (their accesses are checked; for --stats).</summary>
    public int GlobalPagesChecked => Globals.TaintedPages;

    /// <summary>Whether the static TLS's accesses are checked (it has held an undefined byte; for --stats).</summary>
    public bool StaticTlsChecked => Globals.TlsTainted;

    // glibc's static TLS lies right below the thread pointer (x86-64), its thread control block
    // (struct pthread, ~2.3 KB) above it. Its size, as glibc 2.36 computes it: the TLS blocks of the
    // modules loaded at start plus a surplus of 1,664 bytes for dlopen's initial-exec TLS, rounded up
    // to 64 (the main thread's: 0x740 for libc's 0x90 and a program's int). Taken from the modules
    // mapped so far (a dlopen'd module's TLS raises it a little: a bound a little high only loses definedness).
    private const ulong TlsSurplus = 1664, TlsAlignment = 64;
    private readonly Checker.Engine.Memory.ModuleMap _modules;
    private ulong _staticTlsBytes = ShadowMoveRoutine.DefaultStaticTlsBytes;
    // The shadow move routine's copy of it, and of the modules' data span.
    private readonly ulong _staticTlsCell, _moduleSpanCell;

    /// <summary>A module was mapped: the static TLS size follows its TLS block (here and in the shadow move routine).</summary>
    public void OnModuleMapped()
    {
        ulong bytes = (_modules.TlsBytes + TlsSurplus + TlsAlignment - 1) / TlsAlignment * TlsAlignment;
        Volatile.Write(ref _staticTlsBytes, bytes);
        Volatile.Write(ref *(ulong*)_staticTlsCell, bytes);
        (ulong low, ulong high) = _modules.WritableSpan;
        Volatile.Write(ref *(ulong*)_moduleSpanCell, low);
        Volatile.Write(ref *(ulong*)(_moduleSpanCell + 8), high);
    }

    /// <summary>
    /// Whether [<paramref name="address"/>, +<paramref name="length"/>) meets the running thread's
    /// static TLS or its thread control block, which mode-0 code reads and writes fs-relative
    /// (<see cref="GlobalTaint"/>: an undefined byte there makes those accesses checked).
    /// </summary>
    private bool OverlapsCurrentStaticTls(ulong address, ulong length)
    {
        if (GuestThread.Current is not { } thread) return false;
        ulong fs = thread.Context->GuestFsBase;
        return fs != 0 && address + length + Volatile.Read(ref _staticTlsBytes) > fs && address < fs + ShadowMoveRoutine.ThreadControlAbove;
    }

    /// <summary>Whether the fs-relative access of the instruction at <paramref name="pc"/> is checked (<see cref="GlobalTaint.ChecksTlsAt"/>).</summary>
    public bool ChecksTlsAt(ulong pc) => Globals.ChecksTlsAt(pc);

    /// <summary>Whether <paramref name="address"/> is on the running thread's tracked stack (its frames' stores are all checked).</summary>
    private static bool OnCurrentStack(ulong address)
    {
        if (GuestThread.Current is not { } thread) return false;
        ContextBlock* c = thread.Context;
        return address >= MemcheckSlots.At<ulong>(c, MemcheckSlots.StackLimit) && address < MemcheckSlots.At<ulong>(c, MemcheckSlots.StackTop);
    }

    /// <summary>
    /// Propagating when asked (the forced bit); else guarded while a general register or the flags
    /// may be undefined, plain otherwise (whose blocks' guards ask when they use an undefined vector register).
    /// </summary>
    public static int ModeOf(ContextBlock* c)
    {
        ulong dirty = ShadowRegisters.Dirty(c);
        if ((dirty & (1UL << ShadowRegisters.ForcedBit)) != 0) return DefinednessMode.Propagating;
        return (dirty & ShadowRegisters.GeneralBits) != 0 ? DefinednessMode.Guarded : DefinednessMode.Plain;
    }

    /// <summary>The propagating mode's exit: the instruction's uses and shadows, before it runs.</summary>
    public void Propagate(ContextBlock* c)
    {
        Instruction ins = _sites[MemcheckSlots.At<int>(c, MemcheckSlots.PropagateSite)];
        Statistics.PropagationExits++;
        if (ExitProfile.Enabled) ExitProfile.Propagated(ins, ((ulong)ins.RflagsRead & ShadowRegisters.Flags(c)) != 0);
        ShadowRegisters.Dirty(c) &= ~(1UL << ShadowRegisters.PendingBit);
        _propagator.Before(c, ins);
        if (Trace) Console.Error.WriteLine($"memcheck-definedness: 0x{ins.IP:x} {ins} -> dirty 0x{ShadowRegisters.Dirty(c):x} flags 0x{ShadowRegisters.Flags(c):x}");
    }

    private static readonly bool Trace = Environment.GetEnvironmentVariable("MEMCHECK_TRACE_DEFINEDNESS") == "1";

    /// <summary>
    /// Mode 0 read undefined memory at <paramref name="site"/>: the thread goes on at its instruction in
    /// the propagating mode, with the register the check borrowed given back its guest value.
    /// </summary>
    public static ulong SwitchToPropagating(ContextBlock* c, AccessSite site)
    {
        if (site.Scratch.IsGPR() && site.ScratchSlot != 0)
            c->Gpr[site.Scratch.Full() - Register.RAX] = *(ulong*)((byte*)c + site.ScratchSlot);
        ShadowRegisters.Dirty(c) |= 1UL << ShadowRegisters.ForcedBit;
        if (ExitProfile.Enabled) ExitProfile.Switched(site.Pc);
        if (Trace) Console.Error.WriteLine($"memcheck-definedness: undefined read at 0x{site.Pc:x} of 0x{MemcheckSlots.At<ulong>(c, MemcheckSlots.CheckAddress):x} ({MemcheckSlots.At<ulong>(c, MemcheckSlots.CheckSize)} bytes), rsp 0x{c->Rsp:x}");
        return site.Pc;
    }

    /// <summary>
    /// A mode-0 read of undefined memory by an instruction that only sets flags from it and an
    /// immediate (test/cmp of memory: a bitfield's flag bit tested; cc1plus ~80,000 times) is
    /// propagated here, at the switch. When it leaves every register and flag as defined as they
    /// were, the thread resumes in the plain mode right where it was (true), as the propagating mode
    /// would have sent it back after this instruction, without its detour (a propagation exit and a
    /// propagating fragment). Otherwise the flags shadow is put back and the thread switches modes,
    /// where the instruction is propagated as ever. Its address registers are defined (else false:
    /// their use is the propagating mode's to report), and the address from the context's registers
    /// must be the one the check saw (a register the check borrowed or holds would differ).
    /// </summary>
    public bool TryPropagateAtSwitch(ContextBlock* c, AccessSite site)
    {
        if (TracksOrigins || site.Parts != null || site.Vsib) return false;
        // One decoder, moved to the site (Decoder.Create per call cost more than the propagation).
        _switchReader.Address = site.Pc;
        _switchReader.Limit = site.Pc + 15;
        Decoder decoder = _switchDecoder ??= Decoder.Create(64, _switchReader);
        decoder.IP = site.Pc;
        decoder.Decode(out Instruction ins);
        if (ins.Mnemonic is not (Mnemonic.Test or Mnemonic.Cmp) || ins.OpCount != 2 || ins.Op0Kind != OpKind.Memory
            || ins.Op1Kind is not (OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64)
            || ins.RflagsRead != RflagsBits.None || ins.SegmentPrefix is Register.FS or Register.GS || ins.IsIPRelativeMemoryOperand)
            return false;
        if (ShadowRegisters.IsUndefined(c, ins.MemoryBase) || ShadowRegisters.IsUndefined(c, ins.MemoryIndex)) return false;
        if (GuestValues.Address(c, ins) != MemcheckSlots.At<ulong>(c, MemcheckSlots.CheckAddress)) return false;
        ulong dirty = ShadowRegisters.Dirty(c), flags = ShadowRegisters.Flags(c);
        _propagator.Before(c, ins);
        if (ShadowRegisters.Dirty(c) == dirty)
        {
            Statistics.PropagatedAtSwitch++;
            if (ExitProfile.Enabled) ExitProfile.PropagatedAtSwitch(ins);
            return true;
        }
        ShadowRegisters.Dirty(c) = dirty;
        ShadowRegisters.Flags(c) = flags;
        return false;
    }

    private readonly Checker.Engine.Translation.GuestCodeReader _switchReader = new(0);
    private Decoder? _switchDecoder;

    /// <summary>A replaced function returned: rax, which it set, is defined.</summary>
    public static void DefineResult(ContextBlock* c) => ShadowRegisters.Define(c, Register.RAX);

    /// <summary>
    /// Whether a part of a merged check that reads meets an undefined byte; if none does, the
    /// write-only parts' bytes are defined (their stores are about to run in mode 0).
    /// </summary>
    public bool ReadsUndefined(ulong address, IReadOnlyList<MergedAccess> parts, ulong sitePc)
    {
        CountGapHit(sitePc, parts);
        foreach (MergedAccess part in parts)
            if (part.IsRead && _memory.UndefinedSpan(address + (ulong)part.Offset, (ulong)part.Size) != null) return true;
        foreach (MergedAccess part in parts)
            if (part.IsWrite) _memory.Define(address + (ulong)part.Offset, (ulong)part.Size);
        Statistics.MergedGapExits++;
        return false;
    }

    // Merged checks whose undefined bytes lie between their parts (a struct's never-written field
    // between two that are accessed) leave the cache every time they run: after a few times their
    // instructions are checked apart and their fragment translated again.
    private readonly Dictionary<ulong, int> _gapHits = new();
    private readonly HashSet<ulong> _keptApart = [];
    // _keptApart's size, published after each add under its lock: while it is 0 (most runs, or
    // until a first split) translation asks no lock per checked instruction.
    private int _keptApartCount;
    private const int GapHitsBeforeSplitting = 8;

    /// <summary>Whether the instruction at <paramref name="pc"/> is to be checked on its own (see above). Called while translating.</summary>
    public bool KeepsApart(ulong pc)
    {
        if (Volatile.Read(ref _keptApartCount) == 0) return false;
        // Most pcs are not in the set: their filter bit is clear, no lock (bits are only ever set,
        // under the lock, before the set's count is published).
        if ((Volatile.Read(ref _keptApartFilter[FilterBit(pc) >> 6]) & 1UL << FilterBit(pc)) == 0) return false;
        lock (_keptApart) return _keptApart.Contains(pc);
    }

    // A bit per hash of a kept-apart pc: the planner asks for every checked instruction (cc1plus:
    // the lock and set lookup were ~1.3% of checked translation once a few merged checks were split).
    private readonly ulong[] _keptApartFilter = new ulong[1024];

    private static int FilterBit(ulong pc) => (int)((pc * 0x9E3779B97F4A7C15UL) >> 48);

    /// <summary>Adds <paramref name="pc"/> to the kept-apart set and its filter (under the set's lock).</summary>
    private void AddKeptApart(ulong pc)
    {
        _keptApart.Add(pc);
        _keptApartFilter[FilterBit(pc) >> 6] |= 1UL << FilterBit(pc);
    }

    private void CountGapHit(ulong sitePc, IReadOnlyList<MergedAccess> parts)
    {
        int hits = _gapHits.GetValueOrDefault(sitePc) + 1;
        _gapHits[sitePc] = hits;
        if (hits != GapHitsBeforeSplitting) return;
        lock (_keptApart)
        {
            foreach (MergedAccess part in parts) AddKeptApart(part.Pc);
            Volatile.Write(ref _keptApartCount, _keptApart.Count);
        }
        // Under the cache lock (tool exits are): the next run of this code is translated again.
        _cache.Flush(sitePc, sitePc + 1);
    }

    public void OnSyscallBefore(ContextBlock* c, long number, ulong pc) => _syscalls.Before(c, number, pc);

    public void OnSyscallAfter(ContextBlock* c, long number, long result) => _syscalls.After(c, number, result);

    /// <summary>Memory the engine wrote for the guest (a signal frame): defined.</summary>
    public void Define(ulong start, ulong end) => _memory.Define(start, end - start);

    private void Uninitialized(ContextBlock* c, ulong pc, string what, UninitializedUse use, ulong origin)
    {
        // The origin's block is looked up for errors the report has not seen (a scan of the heap's
        // blocks): repeats are only counted. (Once per site before: a second error at that pc with
        // another stack named no origin; dotnet --version had 43 of 47 so.)
        Statistics.Reports++;
        nint context = (nint)c;
        Errors?.Invoke(new UninitializedError(what, Stack(c, pc))
        {
            Use = use,
            FindOrigin = origin == 0 ? null : () =>
            {
                HeapChunk? block = _origins?.BlockOf(origin) is { } read ? _heap.ChunkOf(read) : _heap.FindBlock(origin);
                if (block != null) return new OriginFound(block, null);
                if (_origins?.FrameOf(origin) is { } frame) return new OriginFound(null, frame);
                if (OnStack((ContextBlock*)context, pc, origin) is { } stack) return new OriginFound(null, stack);
                return new OriginFound(null, null, _heap.InArena(origin) ? origin : 0);
            },
            // Memory a system call reads: rare (its bytes are defined once reported), so the scan of the heap's blocks is cheap.
            AddressChunk = use.Address is ulong address ? _heap.FindBlock(address) : null,
        });
    }

    private StackOrigin? OnStack(ContextBlock* c, ulong pc, ulong origin)
    {
        ulong low = MemcheckSlots.At<ulong>(c, MemcheckSlots.StackLimit), top = MemcheckSlots.At<ulong>(c, MemcheckSlots.StackTop);
        (StackFrameFinder.Place where, ulong framePc) = StackFrameFinder.Find(origin, pc, c->Rsp, c->Gpr[5], low, top, _maxFrames, _rules);
        return where switch
        {
            StackFrameFinder.Place.Frame => new StackOrigin(framePc, framePc == pc, false),
            StackFrameFinder.Place.BelowStackPointer => new StackOrigin(0, false, true),
            _ => null,
        };
    }

    private static readonly Register[] ArgumentRegisters = [Register.RDI, Register.RSI, Register.RDX];

    /// <summary>
    /// At a replaced allocation function's entry (its handler is C#, which no propagation sees):
    /// each undefined argument register is reported once per call site, with the callers' stack,
    /// and then taken as defined.
    /// </summary>
    public void CheckArguments(ContextBlock* c, string symbol)
    {
        if (HeapFunctionParameters.Of(symbol) is not var (display, parameters)) return;
        for (int i = 0; i < parameters.Length && i < ArgumentRegisters.Length; i++)
        {
            Register register = ArgumentRegisters[i];
            if (!ShadowRegisters.IsUndefined(c, register)) continue;
            ulong[] stack = CallstackCapture.Capture(c, c->UnwindTop, _maxFrames, _rules);
            ulong origin = _origins?.OfRegister(register) ?? 0;
            Errors?.Invoke(new UninitializedError($"{display} parameter {parameters[i]} ({register.ToString().ToLowerInvariant()}) is undefined", stack)
            {
                InnermostIsExact = false,
                FindOrigin = origin == 0 ? null : () => (_origins?.BlockOf(origin) is { } read ? _heap.ChunkOf(read) : _heap.FindBlock(origin)) is { } block ? new OriginFound(block, null)
                    : new OriginFound(null, null, _heap.InArena(origin) ? origin : 0),
            });
            ShadowRegisters.Define(c, register);
        }
    }

    private ulong[] Stack(ContextBlock* c, ulong pc) =>
        CallstackCapture.CaptureAt(pc, c->Rsp, c->Gpr[5], c->UnwindTop, _maxFrames, _rules);
}
