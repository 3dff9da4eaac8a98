using System.Runtime.Versioning;
using Checker.Engine;
using Checker.Engine.CodeCache;
using Checker.Engine.Dispatch;
using Checker.Engine.Emission;
using Checker.Engine.Interception;
using Checker.Engine.Loading;
using Checker.Engine.Memory;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Tools;
using Checker.Engine.Translation;
using Checker.MemcheckTool.ClientRequests;
using Checker.MemcheckTool.Definedness;
using Checker.MemcheckTool.Heap;
using Checker.MemcheckTool.Instrumentation;
using Checker.MemcheckTool.Replacements;
using Checker.MemcheckTool.State;
using Checker.Shadow;
using Checker.Symbols.Elf;
using Checker.Symbols.Unwinding;
using Iced.Intel;

namespace Checker.MemcheckTool;

/// <summary>
/// memcheck's checks as one tool of the engine: shadow memory (2 bits a byte) kept with the heap
/// and the stacks, inline access checks with jump-and-link slow paths, the replacing allocator
/// (redzones, delayed frees, leaks), the guest-side string routines and their overlap checks.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class MemoryCheckTool(MemcheckOptions options) : Tool
{
    /// <summary>pext by this gives a &gt;&gt; 2 of the 47-bit user address a (see <see cref="MemcheckSlots.ShadowIndexMask"/>).</summary>
    private const ulong ShadowIndexMask = 0x7fff_ffff_fffc;

    private ToolHost _host = null!;

    /// <summary>Access sites given their own exact-lane test after entering the shared one often (each a tool exit).</summary>
    public HotLaneSites HotLanes => _routines.HotLanes;
    private MemcheckRoutines _routines = null!;
    // Makes the stubs of lazy stubs on their first run (LazyStubs), under the cache's lock.
    private AccessCheckEmitter? _stubMaker;

    /// <summary>Stubs made on their first run (<see cref="LazyStubs"/>), for --stats.</summary>
    public long StubsMade { get; private set; }
    // Makes the hit paths of lazy hits on their first run (LazyHits), set up as the instrumenter's emitter.
    private PropagationEmitter? _hitMaker;

    /// <summary>Pre-checks' hit paths made on their first run (<see cref="LazyHits"/>), for --stats.</summary>
    public long HitsMade { get; private set; }
    private FrameRuleCache _rules = null!;
    private ThreadStacks _threadStacks = null!;
    private LeakCheck _leaks = null!;

    /// <summary>Definedness tracking and its reports (null with --check-uninitialized=no).</summary>
    public DefinednessChecks? Definedness { get; private set; }

    public ShadowMemory Shadow { get; private set; } = null!;
    public GuestHeap Heap { get; private set; } = null!;
    /// <summary>Reports of the inline checks' slow path.</summary>
    public AccessChecker AccessChecker { get; private set; } = null!;
    /// <summary>Overlapping copies reported by the string replacements.</summary>
    public OverlapHook Overlaps { get; private set; } = null!;
    private FunctionInterceptor Interceptor => _host.Interceptor!;

    /// <summary>Valgrind's client requests (valgrind.h, memcheck.h): custom allocators, shadow requests, leak checks, PRINTF.</summary>
    public MemcheckClientRequests ClientRequests { get; private set; } = null!;

    public override void Attach(ToolHost host)
    {
        _host = host;
        var process = host.Process;
        TranslationCache cache = host.Cache;
        Shadow = new ShadowMemory();
        process.ToolMemory.Add((Shadow.Base, Shadow.Base + ShadowMemory.ReservationSize, false));
        // Large freed and fresh blocks are marked through shared pages of memory files: ours, not the guest's.
        foreach (int sharedPages in Shadow.ShareLargeRangePages(lowestDescriptor: process.Descriptors?.Start ?? 1000))
            process.ToolDescriptors.Add(sharedPages);
        Heap = new GuestHeap(options.RedzoneSize, options.DelayFreesBytes, Shadow, AddressSpaceLayout.HeapArenaStart, options.DelayFrees)
        {
            FreshState = options.CheckUninitialized ? ShadowState.Undefined : ShadowState.Defined,
            Limit = () => process.MemoryLimits.HeapLimit,
        };
        process.Addresses.Reserve(Heap.ArenaStart, Heap.ArenaEnd);
        ForbidToolMemory(Shadow, cache);
        process.ToolMemory.Add((Heap.ArenaStart, Heap.ArenaEnd, true));
        // Only what the heap opened is the guest's memory; the rest of the arena is a PROT_NONE reservation.
        Heap.Committed = (start, length) => process.Mappings.Map(start, length, GuestMappings.Read | GuestMappings.Write);
        // The guest's address space holds the heap as the bytes its program holds, not the arena's redzones and delayed frees.
        process.MemoryLimits.ToolHeap = () => (process.Mappings.MappedBytesIn(Heap.ArenaStart, Heap.ArenaEnd - Heap.ArenaStart), Heap.LiveBytes);
        _routines = new MemcheckRoutines(cache, undefinedFrames: options.CheckUninitialized);
        // The interceptor's module map is filled before any allocation happens; the rule cache only
        // asks it when a callstack is captured.
        _rules = new FrameRuleCache(pc => process.Modules.Find(pc));
        AccessChecker = new AccessChecker(Shadow, Heap, _routines.Sites, options.CallstackMaxFrames, _rules);
        var errno = new GuestErrno(() => Interceptor.Locate("__errno_location"));
        // Under definedness checking a replaced function's undefined arguments are reported; its
        // result is defined (the C# handler computed it from arguments taken as defined).
        IEnumerable<InterceptedFunction> functions = new HeapFunctions(Heap, options.CallstackMaxFrames, _rules, errno,
            () => Interceptor.Locate("_ZSt17__throw_bad_allocv"), options.CheckUninitialized ? () => Definedness : null).All();
        host.ReplaceFunctions(functions);
        Overlaps = new OverlapHook(options.CallstackMaxFrames, _rules);
        MapStringReplacements(host);
        if (host.Program.Interpreter is MappedImage loader)
        {
            // ld.so's own copies of the string routines are local symbols: redirected too (after the replacements are known).
            Overlaps.Exempt = pc => pc >= loader.Start && pc < loader.End;
            Interceptor.RedirectPrivateCopies(loader.Image.Path, loader.Start);
        }
        _threadStacks = new ThreadStacks(Shadow, process);
        _leaks = new LeakCheck(host, Heap);
        if (options.CheckUninitialized) Definedness = new DefinednessChecks(host, Shadow, Heap, options.CallstackMaxFrames, _rules, options.TrackOrigins);
        AttachClientRequests(host);
    }

    private void AttachClientRequests(ToolHost host)
    {
        var shadow = new RequestShadow(Shadow, host.Process.Mappings) { MadeUndefined = Definedness is { } checks ? checks.Globals.Kept : null };
        ClientRequests = new MemcheckClientRequests(shadow, Heap, Definedness?.Memory, host.Cache.Lock, ScanForLeaksNow, options.CallstackMaxFrames, _rules)
        {
            UntrackedAllocator = () => host.Process.Interceptor?.ProgramWithOwnAllocator != null,
        };
        Heap.CustomBlocks = ClientRequests.FindBlock;
        AccessChecker.DescribeClientBlock = ClientRequests.DescribeClientBlock;
        _leaks.Candidates = ClientRequests.LeakCandidates;
    }

    /// <summary>
    /// A client request: memcheck's answer goes to the program defined in rdx (Valgrind marks the
    /// result register defined); a request memcheck does not know keeps the program's default.
    /// </summary>
    public override ulong OnClientRequest(GuestThread thread, ClientRequest request)
    {
        if (ClientRequests.Handle(thread.Context, request) is not ulong answer) return request.Default;
        if (Definedness != null) ShadowRegisters.Define(thread.Context, Register.RDX);
        return answer;
    }

    public override void OnProcessExit(GuestOutcome outcome)
    {
        ClientRequests.FlushMessages();
        Checker.Engine.Emission.CodeSizeProfile.Print();
        Checker.Engine.Emission.EntryProfile.Print();
        if (SlowPathProfile.Enabled)
        {
            Func<ulong, string> describe = pc => _host.Process.Modules.Find(pc) is (string path, ulong bias) ? $"{System.IO.Path.GetFileName(path)}+0x{pc - bias:x}" : $"0x{pc:x}";
            SlowPathProfile.Print(_routines.Sites, describe);
            ExitProfile.Print(describe);
        }
    }
    public override void OnExec(string program) => ClientRequests.FlushMessages();

    /// <summary>
    /// Connects the client requests' output to the front end, then puts every error sink behind the
    /// requesting thread's VALGRIND_DISABLE_ERROR_REPORTING switch (call once the sinks are set).
    /// </summary>
    public void ConnectClientRequests(Action<ClientRequestReports> connect)
    {
        connect(ClientRequests.Reports);
        ClientRequestReports reports = ClientRequests.Reports;
        reports.Errors = ErrorReporting.Gate(reports.Errors);
        Heap.Errors = ErrorReporting.Gate(Heap.Errors);
        AccessChecker.Errors = ErrorReporting.Gate(AccessChecker.Errors);
        Overlaps.Errors = ErrorReporting.Gate(Overlaps.Errors);
        HandledFaults = ErrorReporting.Gate(HandledFaults);
        if (Definedness != null)
        {
            Definedness.Errors = ErrorReporting.Gate(Definedness.Errors);
            Definedness.ParameterErrors = ErrorReporting.Gate(Definedness.ParameterErrors);
        }
    }

    public override BlockInstrumenter CreateInstrumenter() => new MemcheckInstrumenter(_routines, Definedness);

    /// <summary>
    /// What memcheck's code depends on besides the guest's: the options that change it and its routines'
    /// places (the string replacements' library decides where the guest's libraries go). None under the
    /// slow-path profile, whose code names a list of this run only.
    /// </summary>
    public override string? TranslationKey => SlowPathProfile.Enabled ? null
        : $"memcheck uninitialized={options.CheckUninitialized} origins={options.TrackOrigins} modes=plain,propagating,guarded register-routine=0x{Definedness?.RegisterRoutine ?? 0:x}"
          + $" routines=0x{_routines.AccessCheck:x},0x{_routines.StringCheck:x},0x{_routines.VsibCheck:x},0x{Definedness?.MoveRoutine ?? 0:x}"
          + $" replace={PersistedTranslations.FileIdentity(StringReplacements.LibraryPath)}";

    private const ulong StateMagic = 0x3130_4C4F_4F54_434D;   // "MCTOOL01"

    private sealed record TranslationState(AccessSiteTable.Snapshot Sites, ExactLaneCheck.Snapshot Lanes, SharedCode.Snapshot? Shapes,
        DefinednessChecks.Snapshot? Definedness);

    /// <summary>The tables memcheck's persisted code names by id and the shared code it jumps to (placed before the fragments).</summary>
    public override void SaveTranslationState(BinaryWriter writer)
    {
        writer.Write(StateMagic);
        writer.Write(System.Runtime.CompilerServices.Unsafe.SizeOf<Instruction>());
        _routines.Sites.Save(writer);
        _routines.ExactLanes.Save(writer);
        writer.Write(_routines.SharedShapes != null);
        _routines.SharedShapes?.Save(writer);
        writer.Write(Definedness != null);
        Definedness?.SaveTranslationState(writer);
        writer.Write(StateMagic);
    }

    public override object? ReadTranslationState(BinaryReader reader)
    {
        if (reader.ReadUInt64() != StateMagic || reader.ReadInt32() != System.Runtime.CompilerServices.Unsafe.SizeOf<Instruction>())
            throw new InvalidDataException("not memcheck's translation state");
        AccessSiteTable.Snapshot sites = AccessSiteTable.Read(reader);
        ExactLaneCheck.Snapshot lanes = _routines.ExactLanes.Read(reader);
        bool shapes = reader.ReadBoolean();
        if (shapes != (_routines.SharedShapes != null)) throw new InvalidDataException("memcheck's shared shapes");
        SharedCode.Snapshot? shared = shapes ? _routines.SharedShapes!.Read(reader) : null;
        bool definedness = reader.ReadBoolean();
        if (definedness != (Definedness != null)) throw new InvalidDataException("memcheck's definedness");
        DefinednessChecks.Snapshot? propagation = definedness ? DefinednessChecks.ReadTranslationState(reader) : null;
        if (reader.ReadUInt64() != StateMagic) throw new InvalidDataException("memcheck's translation state is truncated");
        return new TranslationState(sites, lanes, shared, propagation);
    }

    public override void RestoreTranslationState(object? state)
    {
        if (state is not TranslationState s) return;
        _routines.Sites.Restore(s.Sites);
        _routines.ExactLanes.Restore(s.Lanes);
        if (s.Shapes != null) _routines.SharedShapes!.Restore(s.Shapes);
        if (s.Definedness != null) Definedness!.RestoreTranslationState(s.Definedness);
    }

    public override int ModeOf(ContextBlock* context) => Definedness != null ? DefinednessChecks.ModeOf(context) : 0;

    public override void OnSyscallBefore(ContextBlock* context, long number, ulong pc)
    {
        if (Definedness == null) return;
        // The report path (callstacks, the collector) is shared with the other threads.
        lock (_host.Cache.Lock) Definedness.OnSyscallBefore(context, number, pc);
    }

    public override void OnSyscallAfter(ContextBlock* context, long number, long result)
    {
        if (Definedness == null) return;
        lock (_host.Cache.Lock) Definedness.OnSyscallAfter(context, number, result);
    }

    public override void OnSignalFrame(GuestThread thread, int signal, ulong start, ulong end) => Definedness?.Define(start, end);

    /// <summary>Faulting accesses the program's own handler takes (reported by the front end as Valgrind does).</summary>
    public Action<GuestFault>? HandledFaults { get; set; }

    public override void OnFaultHandledByProgram(GuestFault fault) => HandledFaults?.Invoke(fault);

    // A thread stack's marks go when its memory is unmapped or mapped over: what comes there starts clean.
    public override void OnMemoryUnmapped(ulong start, ulong end)
    {
        _threadStacks.Forget(start, end);
        if (end <= start || end > ShadowMemory.AddressLimit) return;
        // A shadow page stands for 16 KB: widened to whole ones where the rest of them is mapped by
        // nobody, a small unmapping gives its shadow page back too (else mapping and unmapping 4 KB
        // at ever new addresses kept a shadow page each).
        const ulong Granule = 4096UL << 2;
        ulong low = start & ~(Granule - 1), high = Math.Min((end + Granule - 1) & ~(Granule - 1), ShadowMemory.AddressLimit);
        if (low < start && !Unused(low, start)) low = start;
        if (high > end && !Unused(end, high)) high = end;
        Shadow.ReleaseUnmapped(low, high - low);
    }

    private bool Unused(ulong start, ulong end) =>
        !_host.Process.Mappings.AnyMapped(start, end) && !_host.Process.OverlapsToolMemory(start, end - start);
    public override void OnMemoryMapped(ulong start, ulong length, int protection, bool anonymous) => _threadStacks.Forget(start, start + length);

    public override void OnMemoryProtected(ulong start, ulong length, int protection)
    {
        if ((protection & (LibC.ProtRead | LibC.ProtWrite)) != (LibC.ProtRead | LibC.ProtWrite)) Heap.ArenaProtectedByProgram(start, length);
    }

    /// <summary>gs:[a &gt;&gt; 2] is a's shadow byte in generated code.</summary>
    public override ulong SegmentBase => Shadow.Base;

    /// <summary>
    /// On the ending thread: its callstack walk memo goes to the next thread (<see cref="WalkMemo.ReleaseCurrent"/>),
    /// and its context block no longer names it to the native heap path.
    /// </summary>
    public override void OnThreadExited(GuestThread thread)
    {
        MemcheckSlots.At<nint>(thread.Context, MemcheckSlots.HeapWalkMemo) = 0;
        WalkMemo.ReleaseCurrent();
    }

    public override void OnThreadStarted(GuestThread thread, GuestThread? parent, ulong stackPointer)
    {
        ContextBlock* c = thread.Context;
        MemcheckSlots.At<ulong>(c, MemcheckSlots.ShadowIndexMask) = ShadowIndexMask;
        if (parent != null)
        {
            _routines.ExactLanes.ProgramIsThreaded();
            // The parent is in clone, the child has not started: neither is in the access check routine.
            MemcheckSlots.At<int>(c, MemcheckSlots.ProgramThreaded) = 1;
            MemcheckSlots.At<int>(parent.Context, MemcheckSlots.ProgramThreaded) = 1;
        }
        // The heap's native fast path takes no lock: only while the program has one thread (this
        // runs on the new thread before it or its parent runs guest code again).
        if (parent != null) Heap.FastPathAllowed = false;
        else if (HeapFastPath.EntryPoint is not 0 and var fast)
        {
            c->InterceptFast = (ulong)fast;
            c->InterceptFastData = (ulong)Heap.FastPathState;
            Heap.FastPathAllowed = true;
        }
        if (parent == null)
        {
            LoadedProgram program = _host.Program;
            MemcheckSlots.At<ulong>(c, MemcheckSlots.StackLimit) = program.StackLimit;
            MemcheckSlots.At<ulong>(c, MemcheckSlots.StackTop) = program.StackTop;
            // Below the initial stack pointer (less red zone and slack) nothing is addressable yet.
            ulong openFrom = program.StackPointer - StackTracking.RedZone - StackTracking.Slack;
            ulong closedFrom = Math.Max(program.StackLimit, openFrom - StackTracking.InitialUnaddressable);
            Shadow.Set(closedFrom, openFrom - closedFrom, ShadowState.Unaddressable);
            return;
        }
        _threadStacks.Track(c, stackPointer);
    }

    // At clone's syscall its caller's return address is still at [rsp] (glibc's __clone has no CFI
    // there): the syscall's pc, then the stack as at a function's entry.
    public override ulong[] CaptureThreadCreation(ContextBlock* parent, ulong clonePc) =>
        [clonePc, .. CallstackCapture.Capture(parent, parent->UnwindTop, options.CallstackMaxFrames - 1, _rules)];

    public override ulong? OnToolExit(ContextBlock* context)
    {
        if (MemcheckSlots.At<int>(context, MemcheckSlots.ToolExitReason) == ToolExitReasons.LazyStub)
        {
            // A site's first failed inline check: its stub made now; the thread goes on through it.
            ulong lazyStub = MemcheckSlots.At<ulong>(context, MemcheckSlots.LazyStubAt);
            _stubMaker ??= new AccessCheckEmitter(_routines) { TrackDefinedness = Definedness != null };
            _stubMaker.Materialize(lazyStub, _host.Cache.Region);
            StubsMade++;
            context->LinkReturn = lazyStub;
            return null;
        }
        if (Definedness != null && MemcheckSlots.At<int>(context, MemcheckSlots.ToolExitReason) == ToolExitReasons.LazyHit)
        {
            // A pre-check's first hit: its hit path made now; the thread goes on through it.
            _hitMaker ??= new PropagationEmitter
            {
                InlineMoves = !Definedness.TracksOrigins,
                RegisterRoutine = Definedness.RegisterRoutine,
                DefineInPlace = !Definedness.TracksOrigins,
                Shared = _routines.SharedShapes,
            };
            (ulong start, bool rcxSaved) = _hitMaker.MakeHit(MemcheckSlots.At<ulong>(context, MemcheckSlots.LazyStubAt), _host.Cache.Region, Definedness);
            // A plain copy's lazy hit kept the guest's rcx before taking it for its own address.
            if (rcxSaved) context->Gpr[1] = MemcheckSlots.At<ulong>(context, MemcheckSlots.PrecheckSaveRcx);
            HitsMade++;
            context->LinkReturn = start;
            return null;
        }
        if (Definedness != null && MemcheckSlots.At<int>(context, MemcheckSlots.ToolExitReason) == ToolExitReasons.Propagate)
        {
            Definedness.Propagate(context);
            return null;
        }
        if (MemcheckSlots.At<int>(context, MemcheckSlots.ToolExitReason) == ToolExitReasons.HotLanes)
        {
            _routines.HotLanes.Promote(_routines.Sites[MemcheckSlots.At<int>(context, MemcheckSlots.CheckSite)].Pc, _host.Cache);
            return null;
        }
        if (Definedness != null && MemcheckSlots.At<int>(context, MemcheckSlots.ToolExitReason) == ToolExitReasons.GatherUndefined)
        {
            // The gather routine's final exit (registers restored): its re-run in the propagating
            // mode, this same execution, skips the lanes it has walked and reported.
            AccessSite gather = _routines.Sites[MemcheckSlots.At<int>(context, MemcheckSlots.CheckSite)];
            MemcheckSlots.At<ulong>(context, MemcheckSlots.VsibReplayPc) = gather.Pc;
            return DefinednessChecks.SwitchToPropagating(context, gather);
        }
        if (Definedness != null && MemcheckSlots.At<int>(context, MemcheckSlots.CheckUndefined) != 0)
        {
            MemcheckSlots.At<int>(context, MemcheckSlots.CheckUndefined) = 0;
            AccessSite site = _routines.Sites[MemcheckSlots.At<int>(context, MemcheckSlots.CheckSite)];
            // A gather's lane leaves mid-loop only to report (its routine then resumes); never to switch.
            if (site.Vsib)
            {
                AccessChecker.OnSlowPathError(context);
                return null;
            }
            // A merged check: only a part that reads undefined bytes needs the propagating mode; the
            // parts that only write define their bytes here (mode-0 registers are defined), and the
            // gaps between parts stay as they are.
            if (site.Parts is not { } parts || Definedness.ReadsUndefined(MemcheckSlots.At<ulong>(context, MemcheckSlots.CheckAddress), parts, site.Pc))
            {
                // A test of a bitfield's defined bit: propagated here, the thread stays in the plain mode.
                if (Definedness.TryPropagateAtSwitch(context, site)) return null;
                Definedness.Statistics.ModeSwitches++;
                return DefinednessChecks.SwitchToPropagating(context, site);
            }
        }
        AccessChecker.OnSlowPathError(context);
        return null;
    }

    public override bool IsProbeAddress(ulong address) =>
        address >= Shadow.Base && address < Shadow.Base + ShadowMemory.ReservationSize;

    public override bool ProbeCovers(ulong probe, ulong address, int size) =>
        probe >= Shadow.Base + (address >> 2) && probe <= Shadow.Base + ((address + (ulong)size - 1) >> 2) + 8;

    public override ulong? RoutineFaultPc(ContextBlock* context)
    {
        // A slow-path routine walking the shadow of the access of this site.
        int site = MemcheckSlots.At<int>(context, MemcheckSlots.CheckSite);
        return IsProbeAddress(context->FaultAddress) && site >= 0 && site < _routines.Sites.Count ? _routines.Sites[site].Pc : null;
    }

    /// <summary>The flag-free probe borrows rcx (<c>movzx ecx, word gs:[rcx]</c>, gs being the shadow's base); its guest value is in the CheckSaveRcx slot.</summary>
    public override void RestoreBorrowedRegisters(ulong cachePc, ContextBlock* context, ulong[] registers)
    {
        var decoder = Decoder.Create(64, new GuestCodeReader(cachePc) { Limit = cachePc + 15 }, cachePc);
        decoder.Decode(out Instruction ins);
        if (ins.SegmentPrefix == Register.GS && ins.MemoryBase == Register.RCX)
            registers[1] = MemcheckSlots.At<ulong>(context, MemcheckSlots.CheckSaveRcx);
    }

    /// <summary>The leak check at exit: blocks no guest root reaches.</summary>
    public IReadOnlyList<LeakedBlock> ScanForLeaks() => Counted(_leaks.Scan())!;

    /// <summary>A leak check while the program runs (a nudge, a client request): every thread stopped at a safe point, scanned, and let go; null when the process is ending.</summary>
    public IReadOnlyList<LeakedBlock>? ScanForLeaksNow() => Counted(_leaks.ScanNow());

    /// <summary>Remembers what a scan found, for VALGRIND_COUNT_LEAKS.</summary>
    private IReadOnlyList<LeakedBlock>? Counted(IReadOnlyList<LeakedBlock>? leaks)
    {
        if (leaks != null) ClientRequests.LastLeakCounts = LeakDeltas.Count(leaks, _leaks.LastScanned);
        return leaks;
    }

    public override void OnVforkChild() => Heap.Journal = new HeapJournal();
    public override void OnVforkChildForked() => Heap.Journal = null;
    public override byte[]? TakeVforkJournal() => Heap.Journal is { IsEmpty: false } journal ? journal.Take() : null;
    public override void ReplayVforkJournal(byte[] journal) => HeapJournal.Replay(journal, Heap);

    public override void OnModuleLoaded(string path, ulong start, ulong end) => Definedness?.OnModuleMapped();

    /// <summary>With definedness, a vfork child's page goes with its undefined bits, a byte per byte (MemoryDefinedness).</summary>
    public override int VforkPageStateBytes => Definedness != null ? 4096 : 0;
    public override void ReadVforkPageState(ulong address, Span<byte> state) => Definedness?.Memory.Read(address, state);
    public override void WriteVforkPageState(ulong address, ReadOnlySpan<byte> state) => Definedness?.Memory.Write(address, state, anywhere: true);

    /// <summary>
    /// The shadow of memcheck's own memory is PROT_NONE: a checked guest access there (a wild pointer
    /// into the runtime's heap, the shadow itself, the code cache) faults in its check and is
    /// reported as the unaddressable access it would be natively, and never reaches the tool's state.
    /// The vDSO is the one part of the host region the guest uses (its ld.so reads its ELF headers).
    /// </summary>
    private static void ForbidToolMemory(ShadowMemory shadow, TranslationCache cache)
    {
        if (shadow.Base < AddressSpaceLayout.HostRegionStart)
            throw new EngineException($"the shadow memory was placed at 0x{shadow.Base:x}, inside the guest's region");
        shadow.Forbid(AddressSpaceLayout.HostRegionStart, ShadowMemory.AddressLimit);
        shadow.Forbid(cache.Region.Start, cache.Region.End);
        foreach ((ulong start, ulong end, int _) in HostMappings.Named("[vdso]", "[vvar]", "[vvar_vclock]"))
            shadow.Allow(start, end);
    }

    /// <summary>
    /// Maps libchecker-replace.so into the guest, has libc's string routines redirected to it and its
    /// overlap hook intercepted.
    /// </summary>
    private void MapStringReplacements(ToolHost host)
    {
        string path = StringReplacements.LibraryPath;
        ElfImage library;
        try { library = ElfImage.Open(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
            throw new EngineException($"cannot open the string replacements {path}: {e.Message}");
        }
        MappedImage mapped = host.MapLibrary(library);
        var names = new HashSet<string>(StringReplacements.FunctionNames);
        IReadOnlyList<ElfSymbol> symbols = library.ReadSymbols();
        var entries = symbols
            .Where(s => s.Type == ElfSymbolType.Func && s.IsDefined && names.Contains(s.Name))
            .ToDictionary(s => s.Name, s => s.Value + mapped.LoadBias);
        ElfSymbol hook = symbols.FirstOrDefault(s => s.Type == ElfSymbolType.Func && s.IsDefined && s.Name == OverlapHook.SymbolName)
            ?? throw new EngineException($"{path} has no {OverlapHook.SymbolName}");
        Interceptor.Intercept(hook.Value + mapped.LoadBias, Overlaps.Function);
        foreach ((string alias, string name) in StringReplacements.Aliases)
            if (entries.TryGetValue(name, out ulong entry)) entries[alias] = entry;
        Interceptor.UseReplacements(path, entries);
        host.Process.ModuleMapped(path, mapped.Start);
    }
}
