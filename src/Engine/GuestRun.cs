using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Dispatch;
using Checker.Engine.Loading;
using Checker.Engine.Memory;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Syscalls;
using Checker.Engine.Tools;
using Checker.Engine.Translation;
using Checker.Symbols.Elf;

namespace Checker.Engine;

/// <summary>
/// Wires the engine together for one guest program: code cache, loader, syscall emulation and the
/// dispatcher loop, run on the calling thread.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class GuestRun
{
    private GuestRun(TranslationCache cache, GuestProcess process, Dispatcher dispatcher, GuestThread thread, LoadedProgram program, Tool tool)
    {
        Tool = tool;
        Cache = cache;
        Process = process;
        _dispatcher = dispatcher;
        _thread = thread;
        Program = program;
    }

    private readonly Dispatcher _dispatcher;
    private readonly GuestThread _thread;

    public TranslationCache Cache { get; }
    public GuestProcess Process { get; }
    public LoadedProgram Program { get; }
    /// <summary>The tool the program runs under (<see cref="NoTool"/> for --tool none).</summary>
    public Tool Tool { get; }
    public KernelInterface Kernel => Process.Kernel;

    /// <summary>Loads the program; ELF problems surface as <see cref="ElfFormatException"/>, engine ones as <see cref="EngineException"/>.</summary>
    public static GuestRun Prepare(ElfImage executable, EngineOptions options, Tool? tool = null)
    {
        var cache = new TranslationCache(CodeRegion.ReserveDefault()) { CountIndirectLookups = options.CollectStatistics, MeasureTranslationCpu = options.CollectStatistics };
        var kernel = new KernelInterface(cache.Routines.RawSyscall);
        var window = CodeWindow.Around(cache.Region.Start, cache.Region.End);
        LoadedProgram program = ProgramLoader.Load(executable, options.Arguments, options.Environment, options.ExecFn, window);
        var brk = new GuestBrk(program.FirstFreeFrom(AddressSpaceLayout.BrkStart, AddressSpaceLayout.BrkReservation), AddressSpaceLayout.BrkReservation);
        tool ??= new NoTool();
        var process = new GuestProcess(Path.GetFullPath(options.ExecutablePath), brk, window, cache, kernel)
        {
            Tool = options.TraceEvents is { } trace ? new EventTraceTool(tool, trace) : tool,
        };
        cache.Evicted = victims => ForgetPredictions(process.Threads, victims, cache.Routines);
        process.ToolMemory.Add((cache.Region.Start, cache.Region.End, false));
        // Everything from the host region up is memcheck's: the guest may not map, unmap or protect there.
        process.ToolMemory.Add((AddressSpaceLayout.HostRegionStart, 1UL << 47, false));
        RecordInitialMappings(process.Mappings, program);
        ReserveEngineRanges(process.Addresses, program, cache);
        process.InheritIgnoredSignals(options.InitiallyIgnoredSignals);
        process.ToolDescriptors.UnionWith(options.ToolDescriptors);
        process.SetUpDescriptors(options.ToolDescriptorRange);

        process.Tool.Attach(new ToolHost(process, program, window, RecordImage));
        // The modules mapped before the first instruction; the rest are seen as the guest maps them.
        process.ModuleMapped(program.Executable.Image.Path, program.Executable.Start, isProgram: true);
        if (program.Interpreter is MappedImage interp) process.ModuleMapped(interp.Image.Path, interp.Start);
        var faults = new FaultAnalyzer(cache, process.Mappings, process.Tool);
        var translator = new BlockTranslator(cache, process.Interceptor, process.Tool.CreateInstrumenter(), process.Mappings, process.Modules);
        var dispatcher = new Dispatcher(cache, translator, new SyscallEmulator(process), process, faults, process.Tool);
        var thread = GuestThread.CreateOnCurrentThread(kernel, process.Tool.SegmentBase, process.Threads.NextNumber());
        // The main thread starts with the mask memcheck was exec'd with, as a native program inherits it.
        thread.SignalMask = options.InitialSignalMask & ~HostSignalMask.Unblockable;
        process.Threads.Add(thread);
        process.ToolMemory.Add(((ulong)thread.Context, (ulong)thread.Context + (ulong)ContextOffsets.Size, false));
        FaultHandlers.Install(cache.Routines, kernel);
        thread.Context->Rsp = program.StackPointer;
        thread.Context->UnwindTop = program.StackTop;
        process.Tool.OnThreadStarted(thread, null, program.StackPointer);
        // Last: the snapshot's code goes where this run's first translation would.
        // An entry profile's counters are this run's (their increments are in the code): nothing persisted.
        if (options.TranslationCacheDirectory is string directory && process.Tool.TranslationKey is string toolKey && !Emission.EntryProfile.Enabled)
            PersistedTranslations.Open(directory,
                [$"memcheck {PersistedTranslations.FileIdentity(Environment.ProcessPath ?? "")}", $"tool {toolKey}",
                 $"statistics {options.CollectStatistics}", $"program {process.ExecutablePath}"],
                cache, process.Mappings, process.Interceptor, process.Tool);
        var run = new GuestRun(cache, process, dispatcher, thread, program, tool);
        var launcher = new ThreadLauncher(process, run.RunThread, () => run.Finisher);
        process.StartThread = launcher.Start;
        return run;
    }

    /// <summary>A flushed fragment's entry may be a thread's predicted continuation (a linked call's): no longer.</summary>
    private static void ForgetPredictions(Dispatch.GuestThreads threads, IReadOnlyList<Fragment> victims, Emission.RuntimeRoutines routines)
    {
        var entries = new HashSet<ulong>(victims.Count);
        foreach (Fragment f in victims) entries.Add(f.Entry);
        threads.ForEachLive(thread => Translation.ReturnPrediction.Forget(thread.Context, entries, routines.ReturnMiss, routines.ReturnMissMode1));
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
            Process.Tool.OnThreadExited(_thread);
            ThreadExit.Release(_thread, Kernel);
            Thread.Sleep(Timeout.Infinite);
        }
        if (!Process.Threads.TryEndProcess(_thread)) Process.Threads.StopHere(_thread);
        Process.Tool.OnProcessExit(outcome);
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
    public bool EndProcess(GuestOutcome outcome)
    {
        if (!Process.Threads.TryEndProcess(GuestThread.Current)) return false;
        Process.Tool.OnProcessExit(outcome);
        return true;
    }

    /// <summary>Writes this run's translations for the next run, when persisting is on (every guest thread stopped).</summary>
    public bool SaveTranslations()
    {
        lock (Cache.Lock) return Cache.Persisted?.Save(Cache) == true;
    }

    /// <summary>The guest's disposition of <paramref name="signal"/>: 0 SIG_DFL, 1 SIG_IGN, else its handler.</summary>
    public ulong Disposition(int signal) => BitConverter.ToUInt64(Process.SignalActions[signal], 0);

    /// <summary>Whether every guest thread blocks <paramref name="signal"/> (their own view of their masks).</summary>
    public bool Blocks(int signal) => Process.Threads.Live.All(t => (t.SignalMask & (1UL << (signal - 1))) != 0);

    /// <summary>The main thread's indirect-branch lookups (--stats): all, and those at rets and at indirect calls.</summary>
    public unsafe (long All, long Returns, long Calls) IndirectLookups =>
        (_thread.Context->IblLookups, _thread.Context->IblReturnLookups, _thread.Context->IblCallLookups);

    /// <summary>The main thread's returns that took their predicted continuation (--stats).</summary>
    public unsafe long PredictedReturns => _thread.Context->PredictedReturns;
}
