using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Dispatch;
using Checker.Engine.Heap;
using Checker.Engine.Instrumentation;
using Checker.Engine.Interception;
using Checker.Engine.Loading;
using Checker.Engine.Memory;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Syscalls;
using Checker.Engine.Translation;
using Checker.Shadow;
using Checker.Symbols.Elf;

namespace Checker.Engine;

/// <summary>
/// Wires the engine together for one guest program: code cache, loader, syscall emulation and the
/// dispatcher loop, run on the calling thread.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class GuestRun
{
    private GuestRun(TranslationCache cache, GuestProcess process, Dispatcher dispatcher, GuestThread thread, LoadedProgram program)
    {
        Cache = cache;
        Process = process;
        _dispatcher = dispatcher;
        _thread = thread;
        Program = program;
    }

    private readonly Dispatcher _dispatcher;
    private readonly GuestThread _thread;
    private FunctionInterceptor? _interceptor;

    public TranslationCache Cache { get; }
    public GuestProcess Process { get; }
    public LoadedProgram Program { get; }
    /// <summary>The checking allocator (null under --tool none).</summary>
    public GuestHeap? Heap { get; private init; }
    /// <summary>Shadow memory and the access checks' reporter (null under --tool none).</summary>
    public ShadowMemory? Shadow { get; private init; }
    public AccessChecker? AccessChecker { get; private init; }
    /// <summary>Overlapping copies reported by the string replacements (null under --tool none).</summary>
    public OverlapHook? Overlaps { get; private init; }

    /// <summary>pext by this gives a &gt;&gt; 2 of the 47-bit user address a (see ContextOffsets.ShadowIndexMask).</summary>
    private const ulong ShadowIndexMask = 0x7fff_ffff_fffc;
    public KernelInterface Kernel => Process.Kernel;

    /// <summary>Loads the program; ELF problems surface as <see cref="ElfFormatException"/>, engine ones as <see cref="EngineException"/>.</summary>
    public static GuestRun Prepare(ElfImage executable, EngineOptions options)
    {
        var cache = new TranslationCache(CodeRegion.ReserveDefault()) { CountIndirectLookups = options.CollectStatistics };
        var kernel = new KernelInterface(cache.Routines.RawSyscall);
        var window = CodeWindow.Around(cache.Region.Start, cache.Region.End);
        LoadedProgram program = ProgramLoader.Load(executable, options.Arguments, options.Environment, options.ExecFn, window);
        var brk = new GuestBrk(program.FirstFreeFrom(AddressSpaceLayout.BrkStart, AddressSpaceLayout.BrkReservation), AddressSpaceLayout.BrkReservation);
        var process = new GuestProcess(Path.GetFullPath(options.ExecutablePath), brk, window, cache, kernel);
        process.ToolMemory.Add((cache.Region.Start, cache.Region.End, false));
        // Everything from the host region up is memcheck's: the guest may not map, unmap or protect there.
        process.ToolMemory.Add((AddressSpaceLayout.HostRegionStart, 1UL << 47, false));
        RecordInitialMappings(process.Mappings, program);
        ReserveEngineRanges(process.Addresses, program, cache);
        process.InheritIgnoredSignals(options.InitiallyIgnoredSignals);
        process.ToolDescriptors.UnionWith(options.ToolDescriptors);
        process.SetUpDescriptors(options.ToolDescriptorRange);
        FunctionInterceptor? interceptor = null;
        GuestHeap? heap = null;
        ShadowMemory? shadow = null;
        AccessChecker? checker = null;
        OverlapHook? overlaps = null;
        ThreadLauncher.CreationStackCapture? creationStacks = null;
        if (options.CheckHeap)
        {
            shadow = new ShadowMemory();
            process.ToolMemory.Add((shadow.Base, shadow.Base + ShadowMemory.ReservationSize, false));
            // Freed large blocks are marked through shared pages of a memory file: ours, not the guest's.
            if (shadow.ShareUnaddressablePages(lowestDescriptor: process.Descriptors?.Start ?? 1000) is int sharedPages)
                process.ToolDescriptors.Add(sharedPages);
            heap = new GuestHeap(options.RedzoneSize, options.DelayFreesBytes, shadow, AddressSpaceLayout.HeapArenaStart);
            process.Addresses.Reserve(heap.ArenaStart, heap.ArenaEnd);
            ForbidToolMemory(shadow, cache);
            process.ToolMemory.Add((heap.ArenaStart, heap.ArenaEnd, true));
            // Only what the heap opened is the guest's memory; the rest of the arena is a PROT_NONE reservation.
            heap.Committed = (start, length) => process.Mappings.Map(start, length, GuestMappings.Read | GuestMappings.Write);
            // The interceptor's module map is filled before any allocation happens; the rule
            // cache only asks it when a callstack is captured.
            FunctionInterceptor? modulesSource = null;
            var rules = new Checker.Symbols.Unwinding.FrameRuleCache(pc => modulesSource!.Modules.Find(pc));
            checker = new AccessChecker(shadow, heap, cache.AccessSites, options.CallstackMaxFrames, rules);
            // At clone's syscall its caller's return address is still at [rsp] (glibc's __clone has no
            // CFI there): the syscall's pc, then the stack as at a function's entry.
            creationStacks = (context, pc) =>
                [pc, .. CallstackCapture.Capture(context, context->UnwindTop, options.CallstackMaxFrames - 1, rules)];
            var errno = new GuestErrno(() => modulesSource?.Locate("__errno_location"));
            interceptor = new FunctionInterceptor(new HeapFunctions(heap, options.CallstackMaxFrames, rules, errno).All());
            modulesSource = interceptor;
            overlaps = new OverlapHook(options.CallstackMaxFrames, rules);
            if (program.Interpreter is MappedImage loader) overlaps.Exempt = pc => pc >= loader.Start && pc < loader.End;
            MapStringReplacements(interceptor, window, overlaps, process.Mappings);
            interceptor.OnModuleMapped(program.Executable.Image.Path, program.Executable.Start);
            if (program.Interpreter is MappedImage interp)
            {
                interceptor.OnModuleMapped(interp.Image.Path, interp.Start);
                interceptor.RedirectPrivateCopies(interp.Image.Path, interp.Start);
            }
            process.Interceptor = interceptor;
            process.Heap = heap;
        }
        var faults = new FaultAnalyzer(cache, process.Mappings, shadow?.Base ?? 0, shadow != null ? ShadowMemory.ReservationSize : 0);
        var dispatcher = new Dispatcher(cache, new BlockTranslator(cache, interceptor, checkAccesses: shadow != null, process.Mappings),
            new SyscallEmulator(process), process, faults, checker);
        var thread = GuestThread.CreateOnCurrentThread(kernel, process.Threads.NextNumber());
        // The main thread starts with the mask memcheck was exec'd with, as a native program inherits it.
        thread.SignalMask = options.InitialSignalMask & ~HostSignalMask.Unblockable;
        process.Threads.Add(thread);
        if (shadow != null)
        {
            unsafe
            {
                thread.Context->ShadowBase = shadow.Base;
                thread.Context->ShadowIndexMask = ShadowIndexMask;
                ulong stackLimit = program.StackLimit;
                thread.Context->StackLimit = stackLimit;
                thread.Context->StackTop = program.StackTop;
                // Below the initial stack pointer (less red zone and slack) nothing is addressable yet.
                ulong openFrom = program.StackPointer - StackTracking.RedZone - StackTracking.Slack;
                ulong closedFrom = Math.Max(stackLimit, openFrom - StackTracking.InitialUnaddressable);
                shadow.Set(closedFrom, openFrom - closedFrom, ShadowState.Unaddressable);
            }
        }
        unsafe { process.ToolMemory.Add(((ulong)thread.Context, (ulong)thread.Context + (ulong)ContextOffsets.Size, false)); }
        FaultHandlers.Install(cache.Routines, kernel);
        unsafe
        {
            thread.Context->Rsp = program.StackPointer;
            thread.Context->UnwindTop = program.StackTop;
        }
        var run = new GuestRun(cache, process, dispatcher, thread, program)
            { Heap = heap, Shadow = shadow, AccessChecker = checker, Overlaps = overlaps, _interceptor = interceptor };
        var launcher = new ThreadLauncher(process, run.RunThread, () => run.Finisher, shadow) { CreationStacks = creationStacks };
        process.StartThread = launcher.Start;
        if (shadow != null) process.Unmapped += launcher.ForgetThreadStacks;
        return run;
    }

    /// <summary>What the guest has mapped before its first instruction: its images, its stack, the vDSO.</summary>
    private static void RecordInitialMappings(GuestMappings mappings, LoadedProgram program)
    {
        RecordImage(mappings, program.Executable);
        if (program.Interpreter is MappedImage interp) RecordImage(mappings, interp);
        mappings.Map(program.StackLimit, program.StackTop - program.StackLimit,
            GuestMappings.Read | GuestMappings.Write | (program.StackExecutable ? GuestMappings.Exec : 0));
        // The host's vDSO is the guest's too (passed in AT_SYSINFO_EHDR).
        foreach ((ulong start, ulong end, int prot) in HostMappings.Named("[vdso]", "[vvar]", "[vvar_vclock]"))
            mappings.Map(start, end - start, prot);
    }

    /// <summary>What the engine keeps for itself or keeps free in the guest's region: no guest mmap is placed there.</summary>
    private static void ReserveEngineRanges(GuestAddressAllocator addresses, LoadedProgram program, TranslationCache cache)
    {
        ulong guardStart = program.StackLimit - AddressSpaceLayout.StackGuardGap;
        addresses.Reserve(guardStart, program.StackTop);
        addresses.Ceiling = guardStart;
        addresses.Reserve(AddressSpaceLayout.GuestCodeWindowStart, cache.Region.End);
        addresses.Reserve(AddressSpaceLayout.BrkStart, AddressSpaceLayout.BrkStart + AddressSpaceLayout.BrkReservation);
    }

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

    /// <summary>Each PT_LOAD segment of a mapped image with its protection.</summary>
    private static void RecordImage(GuestMappings mappings, MappedImage image)
    {
        foreach (ElfProgramHeader ph in image.Image.ProgramHeaders)
        {
            if (ph.Type != ElfSegmentType.Load || ph.MemorySize == 0) continue;
            int prot = (ph.Flags.HasFlag(ElfSegmentFlags.Read) ? GuestMappings.Read : 0)
                | (ph.Flags.HasFlag(ElfSegmentFlags.Write) ? GuestMappings.Write : 0)
                | (ph.Flags.HasFlag(ElfSegmentFlags.Execute) ? GuestMappings.Exec : 0);
            ulong start = (ph.VirtualAddress + image.LoadBias) & ~4095UL;
            mappings.Map(start, ph.VirtualAddress + image.LoadBias + ph.MemorySize - start, prot);
        }
    }

    /// <summary>
    /// Maps libchecker-replace.so into the guest, has libc's string routines redirected to it and its
    /// overlap hook intercepted.
    /// </summary>
    private static void MapStringReplacements(FunctionInterceptor interceptor, CodeWindow window, OverlapHook overlaps, GuestMappings mappings)
    {
        string path = StringReplacements.LibraryPath;
        ElfImage library;
        try { library = ElfImage.Open(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
            throw new EngineException($"cannot open the string replacements {path}: {e.Message}");
        }
        MappedImage mapped = ProgramLoader.MapLibrary(library, window);
        RecordImage(mappings, mapped);
        var names = new HashSet<string>(StringReplacements.FunctionNames);
        IReadOnlyList<ElfSymbol> symbols = library.ReadSymbols();
        var entries = symbols
            .Where(s => s.Type == ElfSymbolType.Func && s.IsDefined && names.Contains(s.Name))
            .ToDictionary(s => s.Name, s => s.Value + mapped.LoadBias);
        ElfSymbol hook = symbols.FirstOrDefault(s => s.Type == ElfSymbolType.Func && s.IsDefined && s.Name == OverlapHook.SymbolName)
            ?? throw new EngineException($"{path} has no {OverlapHook.SymbolName}");
        interceptor.Intercept(hook.Value + mapped.LoadBias, overlaps.Function);
        foreach ((string alias, string name) in StringReplacements.Aliases)
            if (entries.TryGetValue(name, out ulong entry)) entries[alias] = entry;
        interceptor.UseReplacements(path, entries);
        interceptor.OnModuleMapped(path, mapped.Start);
    }

    /// <summary>
    /// Runs the guest's main thread on the calling thread; returns how the process ended when this
    /// thread ends it. When another thread ends it, that thread finishes the run through
    /// <see cref="Finisher"/> and this call never returns.
    /// </summary>
    public GuestOutcome Run()
    {
        GuestOutcome outcome = RunThread(_thread, Program.StartPc);
        if (outcome is GuestOutcome.ThreadExited)
        {
            // The main thread left by exit(2) while others run on: the last of them ends the process.
            ThreadExit.Release(_thread, Kernel);
            Thread.Sleep(Timeout.Infinite);
        }
        if (!Process.Threads.TryEndProcess(_thread)) Process.Threads.StopHere(_thread);
        return outcome;
    }

    /// <summary>
    /// Finishes the run (report, leak check, exit) when a thread other than the main one ends the
    /// process; returns the exit status if it returns at all. Set by memcheck before <see cref="Run"/>.
    /// </summary>
    public Func<GuestOutcome, int>? Finisher { get; set; }

    /// <summary>Runs one guest thread to its end; an engine failure is an outcome like the others.</summary>
    private GuestOutcome RunThread(GuestThread thread, ulong pc)
    {
        try
        {
            return _dispatcher.Run(thread, pc);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new GuestOutcome.EngineFailed(e);
        }
    }

    /// <summary>
    /// From a host thread that is no guest thread (a terminating signal from outside): stops every
    /// guest thread for the end of the process. True: the caller finishes the run; false: another
    /// thread is ending it already.
    /// </summary>
    public bool EndProcess() => Process.Threads.TryEndProcess(GuestThread.Current);

    /// <summary>The guest's disposition of <paramref name="signal"/>: 0 SIG_DFL, 1 SIG_IGN, else its handler.</summary>
    public ulong Disposition(int signal) => BitConverter.ToUInt64(Process.SignalActions[signal], 0);

    /// <summary>Whether every guest thread blocks <paramref name="signal"/> (their own view of their masks).</summary>
    public bool Blocks(int signal) => Process.Threads.Live.All(t => (t.SignalMask & (1UL << (signal - 1))) != 0);

    public unsafe long IndirectLookups => _thread.Context->IblLookups;

    /// <summary>The leak check at exit: blocks no guest root reaches (null when the heap is not replaced).</summary>
    /// <summary>
    /// A leak check while the program runs (a nudge): every thread stopped at a safe point, scanned,
    /// and let go. Null when the heap is not replaced or the process is ending.
    /// </summary>
    public IReadOnlyList<LeakedBlock>? ScanForLeaksNow()
    {
        IReadOnlyList<LeakedBlock>? leaks = null;
        // The cache lock too: no thread is in the allocator while its blocks are read.
        Process.Threads.WhileStopped(() => { lock (Cache.Lock) leaks = ScanForLeaks(); });
        return leaks;
    }

    public unsafe IReadOnlyList<LeakedBlock>? ScanForLeaks()
    {
        if (Heap == null || _interceptor == null) return null;
        var registers = new List<ulong>();
        var memory = new List<(ulong, ulong)> { (AddressSpaceLayout.BrkStart, Process.Brk.Current) };
        // Every thread's registers and stack: the one ending the process from its exit path.
        foreach (GuestThread thread in Process.Threads.Live)
        {
            ContextBlock* c = thread.Context;
            registers.Add(c->GuestFsBase);
            registers.Add(c->GuestGsBase);
            bool exiting = thread == GuestThread.Current && Process.Exited;
            (List<ulong> held, ulong stackFrom) = ExitPathRoots.Find(c, exiting, _interceptor.LocateRange("exit"), c->UnwindTop, _interceptor.Modules.Find);
            registers.AddRange(held);
            if (stackFrom < c->UnwindTop) memory.Add((stackFrom, c->UnwindTop));
        }
        memory.AddRange(_interceptor.Modules.WritableSegments);
        memory.AddRange(Process.AnonymousMappings);
        return LeakScanner.Scan(Heap.LiveChunks, registers, memory);
    }
}
