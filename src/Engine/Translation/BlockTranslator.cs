using System.Diagnostics;
using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// Turns one guest basic block into a fragment. Most instructions are copied byte for byte;
/// RIP-relative ones are re-encoded at their new address, fs-relative ones are rewritten against
/// the guest fs base, and control transfers become exits:
/// <list type="bullet">
/// <item>jmp/jcc/fall-through: rel32 jumps to exit stubs, linked to the target fragment later;</item>
/// <item>call: push the application return address, then a direct exit (or the lookup);</item>
/// <item>indirect jmp/call and ret: target into rcx, then the in-cache indirect-branch lookup;</item>
/// <item>syscall: an exit to the dispatcher, which performs or emulates it.</item>
/// </list>
/// Called with the cache lock held.
/// </summary>
[SupportedOSPlatform("linux")]
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class BlockTranslator(TranslationCache cache, Interception.FunctionInterceptor? interceptor = null, Tools.BlockInstrumenter? instrumenter = null,
    Memory.GuestMappings? mappings = null, Memory.ModuleMap? modules = null)
{
    public const int MaxBlockInstructions = 128;
    /// <summary>Conditional branches a fragment may continue past (its side exits).</summary>
    public const int MaxSideExits = 8;

    public static readonly bool Trace = Environment.GetEnvironmentVariable("MEMCHECK_TRACE") == "1";

    private readonly List<Instruction> _block = [];
    private readonly List<(int Exit, int Field)> _pendingExits = [];
    // Side exits taken while a check scratch is held (HeldScratch): the jcc's rel32, its exit, the
    // register. Their pads (reload, then the exit's jump) go after the fragment's body.
    private readonly List<(int Field, int Exit, Register Held)> _heldSideExits = [];
    // Reused across translations: Iced's encoder and decoder allocate on creation, and the GC
    // cost of per-fragment garbage showed up at ~10% of a python run.
    private readonly CodeBuffer _code = new(0);
    private readonly GuestCodeReader _reader = new(0);
    private Decoder? _decoder;
    private readonly Liveness _liveness = new();
    private HeldScratch? _heldScratch;
    private HeldScratch _held => _heldScratch ??= new(_liveness);
    private Tools.BlockServices? _services;
    private int _index;

    private int _mode;
    private long _startedCpu;
    private long _startedAllocated;
    // The ids of the exits of the fragment being built (one list for every block).
    private readonly List<int> _exits = new(8);
    private Action<CodeBuffer>? _emitCurrentPlain;
    // The read-only slot the block's last branch took its target from (ConstantTargets; 0: none).
    private ulong _constantSlot;
    // Valgrind's client request sequence where decoding stopped (None: it stopped for another reason).
    private SpecialSequence _special;

    /// <summary>Translates the block at <paramref name="pc"/> for the tool's <paramref name="mode"/> (see <see cref="Fragment.Mode"/>).</summary>
    public Fragment Translate(ulong pc, int mode = 0)
    {
        _mode = mode;
        _constantSlot = 0;
        // The mode's lookup table, made before the fragment's place in the region is taken.
        cache.IndirectBranchesFor(mode);
        if (EntryProfile.Enabled) EntryProfile.EnsureCounters(cache.Region);
        long started = 0;
        if (cache.MeasureTranslationCpu)
        {
            _startedAllocated = GC.GetAllocatedBytesForCurrentThread();
            // The CPU clock (a system call) outside the wall-clock interval, which the vDSO reads cheaply.
            _startedCpu = Native.ThreadCpuClock.Nanoseconds();
            started = Stopwatch.GetTimestamp();
        }
        cache.Translating(pc, mode);
        if (interceptor != null && interceptor.TryGet(pc, out Interception.InterceptedFunction replaced))
            return TranslateIntercepted(pc, replaced, started);
        PadForLayout();
        ulong start = cache.Region.PeekAligningOffset(HeaderSize, EntryAlignment);
        CodeBuffer code = _code;
        code.Reset(start + HeaderSize);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Buffer = code;
        List<int> exits = _exits;
        exits.Clear();
        _pendingExits.Clear();
        _heldSideExits.Clear();
        _held.Reset();
        _flagsLiveAtEntry = true;

        if (interceptor != null && interceptor.TryGetRedirect(pc, out ulong replacement))
        {
            // A replaced libc routine: the entry is a (linked) jump to the guest-side replacement.
            ExitTo(code, exits, ExitKind.Direct, replacement);
            return FinishFragment(pc, pc + 1, code, exits, SingleEntryMap(), 1, started);
        }

        DecodeBlock(pc);
        _flagsLiveAtEntry = Liveness.FlagsLiveAtEntry(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_block));
        int profiled = _block.Count > 0 ? EntryProfile.Begin(pc, mode) : -1;
        EntryProfile.Emit(code, profiled, 0);
        if (_block.Count == 0)
        {
            // The block starts with a client request: its fragment is the exit that answers it.
            ExitTo(code, exits, _special == SpecialSequence.ClientRequest ? ExitKind.ClientRequest : ExitKind.GetNoRedirectAddress,
                pc + ClientRequestPreamble.Length);
            return FinishFragment(pc, pc + ClientRequestPreamble.Length, code, exits, SingleEntryMap(), 1, started);
        }
        if (instrumenter != null)
        {
            _liveness.Analyze(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_block), ExitFacts(pc));
            _services ??= new Tools.BlockServices(_block, _liveness, _held) { ExitTo = ToolExitTo };
            _services.Mode = mode;
            instrumenter.BeginBlock(_services);
        }
        // The instruction map: the block's instructions are consecutive, so offsets and lengths say it all.
        InstructionMaps maps = cache.InstructionMaps;
        int map = maps.Reserve(_block.Count);
        // By reference: each Instruction is 40 bytes, and the list's indexer copied it per use.
        ReadOnlySpan<Instruction> block = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_block);
        for (int i = 0; i < block.Length; i++)
        {
            int offset = code.Length;
            _index = i;
            if (i == block.Length - 1) EntryProfile.Emit(code, profiled, 1);
            EmitInstruction(code, block[i], exits, isLast: i == block.Length - 1);
            maps.Set(map + i, offset, block[i].Length, _held.Held != Register.None ? _held.Held - Register.RAX : -1);
        }
        Instruction last = _block[^1];
        EntryProfile.Finish(profiled, last, EndsBlock(last));
        int releaseStart = code.Length;
        _held.Release(code);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.HeldScratch, _mode, code.Length - releaseStart);
        if (!EndsBlock(last))
            AddExit(code, exits, cache.NewExitId(ExitKind.Direct, last.NextIP), code.JmpRel32(code.CurrentAddress));
        EmitHeldSideExitPads(code);
        instrumenter?.EmitSideExits(code);
        return FinishFragment(pc, last.NextIP, code, exits, map, _block.Count, started);
    }

    /// <summary>
    /// The taken paths of side exits inside a held run (<see cref="HeldScratch"/>): the held
    /// register's guest value back, then the exit's jump (which linking patches), out of the
    /// fragment's straight line, so the run goes on along the fall-through path.
    /// </summary>
    private void EmitHeldSideExitPads(CodeBuffer code)
    {
        int start = code.Length;
        foreach ((int field, int exit, Register held) in _heldSideExits)
        {
            code.PatchRel32(field, code.CurrentAddress);
            code.LoadSlot(held, ContextOffsets.HeldScratch);
            _pendingExits.Add((exit, code.JmpRel32(code.CurrentAddress)));
        }
        _heldSideExits.Clear();
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Add(CodeSizeProfile.Kind.HeldScratch, _mode, code.Length - start);
    }

    /// <summary>The map of a fragment that stands for one application pc (a replaced routine's entry, a client request).</summary>
    private int SingleEntryMap()
    {
        int map = cache.InstructionMaps.Reserve(1);
        cache.InstructionMaps.Set(map, 0, 0, -1);
        return map;
    }

    /// <summary>The tool's exit to <paramref name="target"/> in <paramref name="targetMode"/> (<see cref="Tools.BlockServices.ExitTo"/>).</summary>
    private void ToolExitTo(CodeBuffer code, ulong target, int targetMode)
    {
        ref ExitStub exit = ref cache.NewExit(out int id, ExitKind.Direct, target);
        exit.TargetMode = targetMode;
        AddExit(code, _exits, id, code.JmpRel32(code.CurrentAddress));
    }

    /// <summary>Out-of-line stubs (exits, then the tool's slow paths), header, copy into the cache, index.</summary>
    private Fragment FinishFragment(ulong pc, ulong endPc, CodeBuffer code, List<int> exits, int map, int instructions, long started)
    {
        int exitsStart = code.Length;
        foreach ((int id, int field) in _pendingExits)
        {
            ref ExitStub exit = ref cache.ExitAt(id);
            // mov dword gs:[ExitId], id; jmp Exit: in the stub area, or here when it is full.
            if (!cache.ExitStubs.TryPlace(id, out ulong stub))
            {
                stub = code.CurrentAddress;
                ExitStubArea.Emit(code, id, cache.Routines.Exit);
            }
            exit.StubAddress = stub;
            exit.PatchSite = code.BaseAddress + (ulong)field;
            code.PatchRel32(field, stub);
        }
        if (CodeSizeProfile.Enabled)
        {
            CodeSizeProfile.Add(CodeSizeProfile.Kind.Exits, _mode, code.Length - exitsStart);
            CodeSizeProfile.Add(CodeSizeProfile.Kind.Header, _mode, HeaderSize);
            CodeSizeProfile.Fragment(_mode);
        }
        instrumenter?.EmitStubs(code);

        int size = code.Length + HeaderSize;
        ulong at = cache.Region.AllocateAligningOffset((ulong)size, HeaderSize, EntryAlignment);
        Debug.Assert(at == code.BaseAddress - HeaderSize);
        WriteHeader(at, _flagsLiveAtEntry);
        CodeRegion.Write(at + HeaderSize, code.Bytes);

        var fragment = new Fragment(pc, endPc, code.BaseAddress, size) { Mode = _mode, FlagsLiveAtEntry = _flagsLiveAtEntry };
        fragment.SetInstructionMap(map, instructions);
        Debug.Assert(exits.Count == 0 || exits[^1] == exits[0] + exits.Count - 1, "a fragment's exits are consecutive");
        fragment.SetExits(exits.Count == 0 ? cache.NextExitId : exits[0], exits.Count);
        cache.Add(fragment);
        foreach (int id in exits) cache.ExitAt(id).OwnerNumber = fragment.Number;
        if (_constantSlot != 0) cache.AddSlotReader(fragment, _constantSlot);
        if (Trace) Console.Error.WriteLine($"memcheck-trace: fragment 0x{pc:x}-0x{endPc:x} m{_mode} at 0x{fragment.Entry:x}+{size} {Convert.ToHexString(code.Bytes)}");
        Measured(started);
        return fragment;
    }

    private void Measured(long started)
    {
        if (!cache.MeasureTranslationCpu) return;
        EngineStatistics statistics = cache.Statistics;
        statistics.TranslationTicks += Stopwatch.GetTimestamp() - started;
        long cpu = Native.ThreadCpuClock.Nanoseconds() - _startedCpu;
        long spent = Math.Max(0, cpu - CpuClockCost);
        statistics.TranslationCpuNanoseconds += spent;
        if (_mode != 0)
        {
            statistics.VariantTranslationCpuNanoseconds += spent;
            statistics.VariantTranslations++;
        }
        statistics.TranslationAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - _startedAllocated;
    }

    /// <summary>What two reads of the thread CPU clock back to back measure: the part of a reading that is the clock itself (the median of 9 tries).</summary>
    private static long CpuClockCost => s_cpuClockCost >= 0 ? s_cpuClockCost : s_cpuClockCost = MeasureCpuClockCost();

    private static long s_cpuClockCost = -1;

    private static long MeasureCpuClockCost()
    {
        Span<long> costs = stackalloc long[9];
        for (int i = 0; i < costs.Length; i++)
        {
            long first = Native.ThreadCpuClock.Nanoseconds();
            costs[i] = Native.ThreadCpuClock.Nanoseconds() - first;
        }
        costs.Sort();
        return costs[costs.Length / 2];
    }

    /// <summary>
    /// What precedes a fragment's entry: a marker byte (<see cref="IndirectBranchEmitter.MarkerSize"/>)
    /// and the indirect entry the lookups jump to (<see cref="IndirectBranchEmitter.IndirectEntry"/>),
    /// which falls through into the fragment. The
    /// fragment is placed so that its entry is 8-aligned (<see cref="EntryAlignment"/>: the pre-checks'
    /// masks are laid out by offset from it); the header used to start 16-aligned, with 6 bytes of
    /// int3 before the indirect entry, ~10 bytes a fragment more (cc1plus: 1.3 MB).
    /// </summary>
    private const int HeaderSize = IndirectBranchEmitter.MarkerSize + IndirectBranchEmitter.IndirectEntrySize;

    private const ulong EntryAlignment = 8;

    /// <summary>
    /// MEMCHECK_LAYOUT_SEED=N (a developer's knob; 0 or unset: off): each fragment is placed 0 to 56
    /// bytes further on, a function of N and the fragment's number, so runs with different N lay the
    /// same code out differently. A workload's few hot fragments move its time by several percent
    /// with their alignment (sqlite: +-4% from 15 bytes at each entry), which a comparison of two
    /// builds at one layout cannot tell from a change; `bench/tools/ab-pairs.sh -s` gives each round
    /// its own seed, A and B the same.
    /// </summary>
    private static readonly ulong LayoutSeed = ulong.TryParse(Environment.GetEnvironmentVariable("MEMCHECK_LAYOUT_SEED"), out ulong seed) ? seed : 0;

    private void PadForLayout()
    {
        if (LayoutSeed == 0) return;
        ulong pad = 8 * (((LayoutSeed + (ulong)cache.Statistics.FragmentsBuilt) * 0x9E37_79B9_7F4A_7C15 >> 61) & 7);
        if (pad != 0) cache.Region.Allocate(pad, 1);
    }

    private static void WriteHeader(ulong at, bool flagsLive)
    {
        CodeRegion.Write(at, [flagsLive ? IndirectBranchEmitter.FlagsLiveMarker : IndirectBranchEmitter.FlagsDeadMarker]);
        CodeRegion.Write(at + IndirectBranchEmitter.MarkerSize, IndirectBranchEmitter.IndirectEntry);
    }

    // Whether the fragment being translated may read the flags before writing them (Liveness.FlagsLiveAtEntry).
    private bool _flagsLiveAtEntry;

    /// <summary>A replaced function's entry: a fragment that calls the replacement from the cache (its exit serves the calls the dispatcher makes).</summary>
    private Fragment TranslateIntercepted(ulong pc, Interception.InterceptedFunction replaced, long started)
    {
        PadForLayout();
        ulong start = cache.Region.PeekAligningOffset(HeaderSize, EntryAlignment);
        CodeBuffer code = _code;
        code.Reset(start + HeaderSize);
        if (CodeSizeProfile.Enabled) CodeSizeProfile.Buffer = code;
        ref ExitStub exit = ref cache.NewExit(out int id, ExitKind.Intercept, pc);
        cache.SetFunction(id, replaced);
        exit.StubAddress = code.CurrentAddress;
        exit.PatchSite = 0;
        InterceptCallEmitter.Emit(code, id, interceptor!.Calls.Add(replaced, exit), cache.Routines, cache.IndirectBranchesFor(_mode).Address, cache.CountIndirectLookups, _mode);
        int size = code.Length + HeaderSize;
        ulong at = cache.Region.AllocateAligningOffset((ulong)size, HeaderSize, EntryAlignment);
        WriteHeader(at, flagsLive: false);   // a function's entry: no flags across a call
        CodeRegion.Write(at + HeaderSize, code.Bytes);
        var fragment = new Fragment(pc, pc + 1, code.BaseAddress, size) { Mode = _mode };
        fragment.SetInstructionMap(SingleEntryMap(), 1);
        fragment.SetExits(id, 1);
        cache.Add(fragment);
        exit.OwnerNumber = fragment.Number;
        Measured(started);
        return fragment;
    }

    private void DecodeBlock(ulong pc)
    {
        _block.Clear();
        _reader.Address = pc;
        // Only executable guest memory is decoded: a jump elsewhere is the guest's SIGSEGV, and an
        // instruction that runs off the end of its mapping ends the block before it.
        ulong executable = mappings?.ExecutableBytesFrom(pc) ?? ulong.MaxValue - pc;
        if (executable == 0) throw new Dispatch.GuestCodeFault(pc, pc, mappings!.ProtectionAt(pc) != null);
        _reader.Limit = pc + executable;
        Decoder decoder = _decoder ??= Decoder.Create(64, _reader);
        decoder.IP = pc;
        _special = SpecialSequence.None;
        int sideExits = 0;
        while (true)
        {
            decoder.Decode(out Instruction ins);
            // Valgrind's client request: the block ends before it (the sequence is a fragment of its own).
            if (IsPreambleStart(ins) && ClientRequestPreamble.Match(ins.IP, _reader.Limit) is var special && ClientRequestPreamble.IsTranslated(special))
            {
                _special = special;
                break;
            }
            if (ins.Code == Code.INVALID && decoder.LastError == DecoderError.NoMoreBytes)
            {
                if (_block.Count == 0) throw new Dispatch.GuestCodeFault(pc, pc + executable, mappings!.ProtectionAt(pc + executable) != null);
                // The block falls through to a fragment of its own, which faults where the fetch would.
                break;
            }
            _block.Add(ins);
            if (_block.Count >= MaxBlockInstructions) break;
            // A superblock: decoding goes on past a jcc into its fall-through path, which saves a
            // jump per conditional branch and keeps hot paths together in the cache.
            bool sideExit = IsJcc(ins) && ++sideExits <= MaxSideExits;
            if (IsJcc(ins) || ins.IsJmpShortOrNear) cache.NoteBranchTarget(ins.NearBranchTarget);
            if (!sideExit && EndsBlock(ins)) break;
            // Code already translated as the entry of a fragment of this mode, or where a jump seen
            // before leads (a loop head, a join after an if, this block's own forward jcc), is linked
            // to, not translated again: cc1plus's blocks covered their guest bytes 1.52 times over;
            // stopping at entries took its code cache from 61.9 to 56.1 MB, and at the targets of
            // jumps too to 48.9 MB (translation CPU -11%, the run -2%).
            if (cache.IsJoin(ins.NextIP, _mode)) break;
        }
    }

    /// <summary>Instructions decoded ahead of a direct exit (<see cref="ExitFacts"/>): up to the first control transfer.</summary>
    private const int LookAhead = 4;
    private readonly int[] _exitFacts = new int[MaxBlockInstructions + 1];
    private readonly Instruction[] _ahead = new Instruction[LookAhead];

    /// <summary>
    /// For <see cref="Liveness.Analyze(ReadOnlySpan{Instruction}, ReadOnlySpan{int})"/>: what the
    /// targets of the block's jccs and direct jmps, and its fall-through, read first. Registers the
    /// code there overwrites before reading are dead at the exit, and so are flags it sets first: the
    /// checks before the exit borrow them instead of spilling (a block that ends where a jump leads,
    /// a loop head after alignment padding, kept every register and the flags live to its end).
    /// Only targets on the pages the block's own bytes are on (83% of cc1plus's): whatever changes
    /// their code (munmap, mprotect, MAP_FIXED, a client request's discard, widened to whole pages)
    /// flushes this fragment with them. Not through a replaced function's entry or a client request
    /// (what runs there is not the guest's code).
    /// </summary>
    private ReadOnlySpan<int> ExitFacts(ulong pc)
    {
        ReadOnlySpan<Instruction> block = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_block);
        int n = block.Length;
        Span<int> facts = _exitFacts.AsSpan(0, n + 1);
        ulong first = pc & ~0xfffUL, end = ((block[n - 1].NextIP - 1) & ~0xfffUL) + 0x1000;
        for (int i = 0; i < n; i++)
            facts[i] = IsJcc(block[i]) || block[i].IsJmpShortOrNear ? FactsAt(block[i].NearBranchTarget, first, end) : Liveness.AllLive;
        ref readonly Instruction last = ref block[n - 1];
        facts[n] = !EndsBlock(last) || IsJcc(last) ? FactsAt(last.NextIP, first, end) : Liveness.AllLive;
        return facts;
    }

    // FactsAt's results by target pc, direct-mapped: a join is looked at from every block that
    // reaches it (cc1plus: 197K looks at 100K targets). Each holds the end of the bytes its scan
    // read, so a block whose pages end sooner does not take facts read beyond them, and the cache's
    // count of code changes when it was made: none holds once guest code may have changed, without
    // emptying the table each time.
    private readonly (ulong Pc, ulong ScanEnd, long Changes, int Facts)[] _factsMemo = new (ulong, ulong, long, int)[4096];

    private int FactsAt(ulong target, ulong first, ulong end)
    {
        if (target < first || target >= end) return Liveness.AllLive;
        long changes = cache.CodeChanges;
        ref (ulong Pc, ulong ScanEnd, long Changes, int Facts) memo = ref _factsMemo[(int)((target ^ (target >> 12)) & (ulong)(_factsMemo.Length - 1))];
        if (memo.Pc == target && memo.Changes == changes && memo.ScanEnd <= end) return memo.Facts;
        if (interceptor != null && (interceptor.TryGet(target, out _) || interceptor.TryGetRedirect(target, out _))) return Liveness.AllLive;
        // Executable to the window's end: protections are by page, and the block was decoded from each of its pages.
        _reader.Address = target;
        _reader.Limit = end;
        Decoder decoder = _decoder!;
        decoder.IP = target;
        int count = 0;
        while (count < LookAhead)
        {
            decoder.Decode(out Instruction ins);
            if (ins.Code is Code.INVALID or Code.Syscall || IsPreambleStart(ins)) break;
            _ahead[count++] = ins;
            if (ins.FlowControl != FlowControl.Next) break;
        }
        int facts = _liveness.LiveAtEntry(_ahead.AsSpan(0, count));
        memo = (target, count > 0 ? _ahead[count - 1].NextIP : target + 1, changes, facts);
        return facts;
    }

    /// <summary>rol rdi, 3: the first instruction of Valgrind's magic preamble (rare in ordinary code).</summary>
    private static bool IsPreambleStart(in Instruction ins) =>
        ins.Code == Code.Rol_rm64_imm8 && ins.Op0Kind == OpKind.Register && ins.Op0Register == Register.RDI && ins.Immediate8 == 3;

    // Not loopcc: Iced gives loope/loopne a condition code too, but they also decrement rcx.
    private static bool IsJcc(in Instruction ins) => ins.IsJccShortOrNear;

    private static bool EndsBlock(in Instruction ins) =>
        ins.FlowControl != FlowControl.Next || ins.Code is Code.Syscall or Code.INVALID;

    private void AddExit(CodeBuffer code, List<int> exits, int exit, int field)
    {
        exits.Add(exit);
        _pendingExits.Add((exit, field));
    }

    private void ExitTo(CodeBuffer code, List<int> exits, ExitKind kind, ulong target, ulong faultPc = 0, int signal = 0) =>
        AddExit(code, exits, cache.NewExitId(kind, target, faultPc, signal), code.JmpRel32(code.CurrentAddress));

    private void EmitInstruction(CodeBuffer code, in Instruction ins, List<int> exits, bool isLast)
    {
        if (!CodeSizeProfile.Enabled)
        {
            EmitInstructionCore(code, ins, exits, isLast);
            return;
        }
        int start = code.Length;
        _held.BeforeInstruction(code, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_block), _index);
        CodeSizeProfile.Add(CodeSizeProfile.Kind.HeldScratch, _mode, code.Length - start);
        int before = code.Length;
        long tool = ToolBytes();
        EmitInstructionCore(code, ins, exits, isLast);
        int emitted = code.Length - before - (int)(ToolBytes() - tool);
        CodeSizeProfile.Add(ins.FlowControl switch
        {
            FlowControl.Next => CodeSizeProfile.Kind.Application,
            FlowControl.IndirectCall or FlowControl.IndirectBranch or FlowControl.Return => CodeSizeProfile.Kind.IndirectLookup,
            _ => CodeSizeProfile.Kind.Exits,
        }, _mode, emitted);
    }

    // The bytes the tool attributed so far (the rest of an instruction's bytes are the engine's).
    private static long ToolBytes() => CodeSizeProfile.Attributed;

    private void EmitInstructionCore(CodeBuffer code, in Instruction ins, List<int> exits, bool isLast)
    {
        _held.BeforeInstruction(code, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_block), _index);
        if (ins.Code == Code.INVALID)
        {
            ExitTo(code, exits, ExitKind.Fault, ins.IP, ins.IP, Signals.SIGILL);
            return;
        }
        if (ins.Code == Code.Syscall)
        {
            ExitTo(code, exits, ExitKind.Syscall, ins.NextIP);
            return;
        }
        instrumenter?.BeforeInstruction(code, _index);
        switch (ins.FlowControl)
        {
            case FlowControl.Next when instrumenter != null:
                // One delegate for every instruction: it emits the one being translated (_index).
                if (instrumenter.TryEmitInstruction(code, _index, _emitCurrentPlain ??= c => EmitPlain(c, _block[_index]))) return;
                EmitPlain(code, ins);
                instrumenter.AfterInstruction(code, _index);
                return;
            case FlowControl.Next:
                EmitPlain(code, ins);
                return;
            case FlowControl.UnconditionalBranch when ins.Op0Kind == OpKind.NearBranch64:
                ExitTo(code, exits, ExitKind.Direct, ins.NearBranchTarget);
                return;
            case FlowControl.ConditionalBranch when ins.IsJccShortOrNear && _held.Held != Register.None:
            {
                // The held run goes on past this branch: its taken path reloads the register in a pad.
                int exit = cache.NewExitId(ExitKind.Direct, ins.NearBranchTarget);
                exits.Add(exit);
                _heldSideExits.Add((code.JccRel32((int)ins.ConditionCode - 1, code.CurrentAddress), exit, _held.Held));
                if (isLast) throw new InvalidOperationException("a held run goes past the block's last instruction");
                return;
            }
            case FlowControl.ConditionalBranch when ins.IsJccShortOrNear:
                AddExit(code, exits, cache.NewExitId(ExitKind.Direct, ins.NearBranchTarget), code.JccRel32((int)ins.ConditionCode - 1, code.CurrentAddress));
                // Inside a superblock the fall-through path simply continues in this fragment.
                if (isLast) ExitTo(code, exits, ExitKind.Direct, ins.NextIP);
                return;
            case FlowControl.ConditionalBranch:
                EmitCountBranch(code, ins, exits);
                return;
            case FlowControl.Call when ins.Op0Kind == OpKind.NearBranch64:
            {
                PrefetchReturnSlot(code, ins.NextIP);
                PushReturnAddress(code, ins.NextIP);
                int predicted = ReturnPrediction.EmitAtCall(code, _mode, ins.NextIP);
                ExitTo(code, exits, ExitKind.Direct, ins.NearBranchTarget);
                EmitContinuation(code, exits, predicted, ins.NextIP);
                return;
            }
            case FlowControl.IndirectCall or FlowControl.IndirectBranch when IsNear64(ins):
                if (TryEmitSlotBranch(code, ins, exits)) return;
                code.StoreSlot(ContextOffsets.IblSaveRcx, Register.RCX);
                LoadTargetIntoRcx(code, ins);
                int predictedReturn = -1;
                if (ins.FlowControl == FlowControl.IndirectCall)
                {
                    PrefetchReturnSlot(code, ins.NextIP);
                    PushReturnAddress(code, ins.NextIP);
                    predictedReturn = ReturnPrediction.EmitAtCall(code, _mode, ins.NextIP);
                    CountLookup(code, ContextOffsets.IblCallLookups);
                }
                JumpToLookup(code, flagsLive: ins.FlowControl == FlowControl.IndirectBranch);
                EmitContinuation(code, exits, predictedReturn, ins.NextIP);
                return;
            case FlowControl.Return when ins.Code is Code.Retnq or Code.Retnq_imm16:
                code.StoreSlot(ContextOffsets.IblSaveRcx, Register.RCX);
                code.Encode(Instruction.Create(Code.Pop_r64, Register.RCX));
                if (ins.Code == Code.Retnq_imm16)
                    code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RSP, new MemoryOperand(Register.RSP, ins.Immediate16, 8)));
                ReturnPrediction.EmitAtReturn(code, _mode, cache.CountIndirectLookups);
                CountLookup(code, ContextOffsets.IblReturnLookups);
                JumpToLookup(code, flagsLive: false);
                return;
            case FlowControl.Interrupt when ins.Code is Code.Int3:
                ExitTo(code, exits, ExitKind.Fault, ins.NextIP, ins.IP, Signals.SIGTRAP);
                return;
            case FlowControl.Exception:
                ExitTo(code, exits, ExitKind.Fault, ins.IP, ins.IP, Signals.SIGILL);
                return;
            default:
                ExitTo(code, exits, ExitKind.Fault, ins.IP, ins.IP, 0);
                return;
        }
    }

    // PLT stubs whose slot was found unbound once: translated again, they take no second drop.
    private readonly HashSet<ulong> _unboundOnce = [];

    /// <summary>
    /// An indirect jmp/call through a slot of its own module (a PLT stub's GOT entry,
    /// <see cref="ConstantTargets"/>): through a read-only slot, a direct branch; through a writable
    /// one (lazy binding's .got.plt, a function pointer in the module's data) it compares the slot
    /// with what it held at translation
    /// and takes a direct exit while it still does, the lookup when not (a
    /// rewritten slot). A slot not bound yet, which points at the resolver's path, gets an exit that
    /// drops this fragment (<see cref="ExitKind.UnboundSlot"/>): the next call, after ld.so has bound
    /// it, translates the stub again with its function.
    /// </summary>
    private bool TryEmitSlotBranch(CodeBuffer code, in Instruction ins, List<int> exits)
    {
        switch (ConstantTargets.Classify(ins, mappings, modules, out ulong slot, out ulong target))
        {
            case SlotKind.ReadOnly:
            {
                _constantSlot = slot;
                int predicted = -1;
                if (ins.FlowControl == FlowControl.IndirectCall)
                {
                    PrefetchReturnSlot(code, ins.NextIP);
                    PushReturnAddress(code, ins.NextIP);
                    predicted = ReturnPrediction.EmitAtCall(code, _mode, ins.NextIP);
                }
                ExitTo(code, exits, ExitKind.Direct, target);
                EmitContinuation(code, exits, predicted, ins.NextIP);
                return true;
            }
            case SlotKind.Writable when target < 0x8000_0000 && Math.Abs((long)(slot - code.CurrentAddress)) < 0x7000_0000:
            {
                // [push return address;] cmp qword [slot], target; jne lookup; jmp target. The flags are
                // dead: a jmp through a GOT slot enters a function (a PLT stub's, a sibling call), as a
                // call through a function pointer in the module's data does.
                bool unbound = ins.FlowControl == FlowControl.IndirectBranch && ConstantTargets.IsUnbound(ins, target) && _unboundOnce.Add(ins.IP);
                int predicted = -1;
                if (ins.FlowControl == FlowControl.IndirectCall)
                {
                    PrefetchReturnSlot(code, ins.NextIP);
                    PushReturnAddress(code, ins.NextIP);
                    predicted = ReturnPrediction.EmitAtCall(code, _mode, ins.NextIP);
                }
                code.Encode(Instruction.Create(Code.Cmp_rm64_imm32, new MemoryOperand(Register.RIP, (long)slot), (int)target));
                code.Raw([0x75, 0x00]);
                int taken = code.Length;
                ExitTo(code, exits, unbound ? ExitKind.UnboundSlot : ExitKind.Direct, target);
                // The exit's jmp may be preceded by alignment NOPs (its rel32 is patched by one store).
                code.PatchByte(taken - 1, checked((byte)(code.Length - taken)));
                // The slot is not rsp-relative: the return address pushed first changes nothing.
                code.StoreSlot(ContextOffsets.IblSaveRcx, Register.RCX);
                LoadTargetIntoRcx(code, ins);
                if (ins.FlowControl == FlowControl.IndirectCall) CountLookup(code, ContextOffsets.IblCallLookups);
                JumpToLookup(code, flagsLive: false);
                EmitContinuation(code, exits, predicted, ins.NextIP);
                cache.Statistics.CheckedSlotTargets++;
                return true;
            }
            default:
                return false;
        }
    }

    private static bool IsNear64(in Instruction ins) =>
        ins.Code is Code.Jmp_rm64 or Code.Call_rm64;

    private static void EmitPlain(CodeBuffer code, in Instruction ins)
    {
        switch (ins.Code)
        {
            case Code.Rdfsbase_r64:
                code.LoadSlot(ins.Op0Register, ContextOffsets.GuestFsBase);
                return;
            case Code.Wrfsbase_r64:
                code.StoreSlot(ContextOffsets.GuestFsBase, ins.Op0Register);
                return;
            case Code.Rdgsbase_r64:
                code.LoadSlot(ins.Op0Register, ContextOffsets.GuestGsBase);
                return;
            case Code.Wrgsbase_r64:
                code.StoreSlot(ContextOffsets.GuestGsBase, ins.Op0Register);
                return;
        }
        if (ins.SegmentPrefix == Register.GS || ins.Code is Code.Rdfsbase_r32 or Code.Wrfsbase_r32 or Code.Rdgsbase_r32 or Code.Wrgsbase_r32)
            throw new EngineException($"guest gs-segment access is not supported: '{ins}' at 0x{ins.IP:x}");
        if (ins.SegmentPrefix == Register.FS)
        {
            ScratchRewriter.EmitFsRelative(code, ins);
            return;
        }
        if (ins.IsIPRelativeMemoryOperand)
        {
            if (!code.TryEncode(ins, out _)) ScratchRewriter.EmitFarRipRelative(code, ins);
            return;
        }
        code.Raw(GuestCodeReader.Span(ins.IP, ins.Length));
    }

    /// <summary>loop/loope/loopne/jrcxz only have rel8 forms: branch over a fall-through exit to a taken exit.</summary>
    private void EmitCountBranch(CodeBuffer code, Instruction ins, List<int> exits)   // a copy: its branch is moved
    {
        ulong taken = ins.NearBranchTarget;
        ins.NearBranch64 = code.CurrentAddress + 2;
        code.Encode(ins);
        int rel8At = code.Length - 1;
        ExitTo(code, exits, ExitKind.Direct, ins.NextIP);
        int distance = code.Length - (rel8At + 1);
        code.PatchByte(rel8At, checked((byte)distance));
        ExitTo(code, exits, ExitKind.Direct, taken);
    }

    private static void LoadTargetIntoRcx(CodeBuffer code, in Instruction ins)
    {
        if (ins.Op0Kind == OpKind.Register)
        {
            code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RCX, ins.Op0Register));
            return;
        }
        var load = ins;
        load.Code = Code.Mov_r64_rm64;
        load.Op0Kind = OpKind.Register;
        load.Op0Register = Register.RCX;
        load.Op1Kind = OpKind.Memory;
        if (ins.SegmentPrefix == Register.FS)
        {
            // rcx is about to be overwritten anyway: it can carry the fs base itself.
            code.LoadSlot(Register.RCX, ContextOffsets.GuestFsBase);
            load.SegmentPrefix = Register.None;
            ScratchRewriter.AddBaseRegisters(code, ref load, Register.RCX);
            code.Encode(load);
        }
        else if (!code.TryEncode(load, out _))
        {
            code.Encode(Instruction.Create(Code.Mov_r64_imm64, Register.RCX, ins.IPRelativeMemoryAddress));
            code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RCX, new MemoryOperand(Register.RCX)));
        }
    }

    /// <summary>Calls push the application's return address, so the guest stack looks native.</summary>
    /// <summary>
    /// <c>prefetcht0 [slot]</c> of the call's return address in the mode's indirect-branch table: the
    /// callee's ret looks that slot up, and the slot is known here. The table's lines (one per hot
    /// target, ~9% of sqlite's fragment samples waited right after the lookup's load) miss L1 often;
    /// the prefetch has the callee's run to land. No register, no flag, never a fault.
    /// </summary>
    private void PrefetchReturnSlot(CodeBuffer code, ulong returnAddress)
    {
        ulong slot = cache.IndirectBranchesFor(_mode).Address + 8 * (ulong)IndirectBranchTable.SlotOf(returnAddress);
        if (slot >= 0x8000_0000) return;
        code.Raw([0x0F, 0x18, 0x0C, 0x25]);   // prefetcht0 [disp32] (absolute: no base, no index)
        code.Int32((int)slot);
    }

    private static void PushReturnAddress(CodeBuffer code, ulong returnAddress)
    {
        if (returnAddress < 0x8000_0000)
        {
            code.Encode(Instruction.Create(Code.Pushq_imm32, (int)returnAddress));
            return;
        }
        code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RSP, new MemoryOperand(Register.RSP, -8, 1)));
        code.Encode(Instruction.Create(Code.Mov_rm32_imm32, new MemoryOperand(Register.RSP), (uint)returnAddress));
        code.Encode(Instruction.Create(Code.Mov_rm32_imm32, new MemoryOperand(Register.RSP, 4, 1), (uint)(returnAddress >> 32)));
    }

    /// <summary>
    /// Where a call's return is predicted to continue (<see cref="ReturnPrediction"/>): after the
    /// call's own way out, an exit to its return address, whose address the call's store takes.
    /// </summary>
    private void EmitContinuation(CodeBuffer code, List<int> exits, int predictedField, ulong returnAddress)
    {
        if (predictedField < 0) return;
        ref ExitStub exit = ref cache.NewExit(out int id, ExitKind.Direct, returnAddress);
        int field = code.JmpRel32(code.CurrentAddress);
        AddExit(code, exits, id, field);
        ReturnPrediction.PatchContinuation(code, predictedField, field);
        exit.ContinuationBack = checked((ushort)(field - predictedField));
    }

    /// <summary>
    /// Under --stats, <c>inc qword fs:[counter]</c> before a lookup at a ret or an indirect call, where
    /// the flags are dead (<see cref="IndirectBranchEmitter"/>): which kind of branch the lookups serve.
    /// </summary>
    private void CountLookup(CodeBuffer code, int counter)
    {
        if (cache.CountIndirectLookups) code.Encode(Instruction.Create(Code.Inc_rm64, ContextOperand.Slot(counter)));
    }

    // Each mode looks up fragments of its own mode (a miss goes to the dispatcher, which picks the
    // mode again), or of the mode the tool names when its state says so (a test of the context's
    // slot; flags dead only: rets and indirect calls, and jmps whose flags are dead).
    private void JumpToLookup(CodeBuffer code, bool flagsLive)
    {
        if (!flagsLive && instrumenter?.LookupInstead(_mode) is { } instead)
        {
            code.TestSlot32(instead.Slot, unchecked((int)instead.Bits));
            code.Byte(0x0F);
            code.Byte(0x84);   // jz: the other mode's lookup
            int field = code.Length;
            code.Int32(0);
            IndirectBranchEmitter.EmitLookup(code, cache.IndirectBranchesFor(_mode).Address, cache.Routines, flagsLive, cache.CountIndirectLookups, _mode);
            code.PatchInt32(field, code.Length - (field + 4));
            IndirectBranchEmitter.EmitLookup(code, cache.IndirectBranchesFor(instead.Mode).Address, cache.Routines, flagsLive, cache.CountIndirectLookups, instead.Mode);
            return;
        }
        IndirectBranchEmitter.EmitLookup(code, cache.IndirectBranchesFor(_mode).Address, cache.Routines, flagsLive, cache.CountIndirectLookups, _mode);
    }
}
