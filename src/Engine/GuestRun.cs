using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Dispatch;
using Checker.Engine.Heap;
using Checker.Engine.Instrumentation;
using Checker.Engine.Interception;
using Checker.Engine.Loading;
using Checker.Engine.Memory;
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
public sealed class GuestRun
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
        process.InheritIgnoredSignals(options.InitiallyIgnoredSignals);
        process.ToolDescriptors.UnionWith(options.ToolDescriptors);
        FunctionInterceptor? interceptor = null;
        GuestHeap? heap = null;
        ShadowMemory? shadow = null;
        AccessChecker? checker = null;
        if (options.CheckHeap)
        {
            shadow = new ShadowMemory();
            process.ToolMemory.Add((shadow.Base, shadow.Base + ShadowMemory.ReservationSize, false));
            heap = new GuestHeap(options.RedzoneSize, options.DelayFreesBytes, shadow);
            process.ToolMemory.Add((heap.ArenaStart, heap.ArenaEnd, true));
            // The interceptor's module map is filled before any allocation happens; the rule
            // cache only asks it when a callstack is captured.
            FunctionInterceptor? modulesSource = null;
            var rules = new Checker.Symbols.Unwinding.FrameRuleCache(pc => modulesSource!.Modules.Find(pc));
            checker = new AccessChecker(shadow, heap, cache.AccessSites, program.StackTop - AddressSpaceLayout.StackSize, program.StackTop,
                options.CallstackMaxFrames, rules);
            interceptor = new FunctionInterceptor(new HeapFunctions(heap, program.StackTop, options.CallstackMaxFrames, rules).All());
            modulesSource = interceptor;
            MapStringReplacements(interceptor, window);
            interceptor.OnModuleMapped(program.Executable.Image.Path, program.Executable.Start);
            if (program.Interpreter is MappedImage interp)
            {
                interceptor.OnModuleMapped(interp.Image.Path, interp.Start);
                interceptor.RedirectPrivateCopies(interp.Image.Path, interp.Start);
            }
            process.Interceptor = interceptor;
        }
        var dispatcher = new Dispatcher(cache, new BlockTranslator(cache, interceptor, checkAccesses: shadow != null),
            new SyscallEmulator(process), process, checker);
        var thread = GuestThread.CreateOnCurrentThread(kernel);
        if (shadow != null)
        {
            unsafe
            {
                thread.Context->ShadowBase = shadow.Base;
                thread.Context->ShadowIndexMask = ShadowIndexMask;
                ulong stackLimit = program.StackTop - AddressSpaceLayout.StackSize;
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
        unsafe { thread.Context->Rsp = program.StackPointer; }
        return new GuestRun(cache, process, dispatcher, thread, program) { Heap = heap, Shadow = shadow, AccessChecker = checker, _interceptor = interceptor };
    }

    /// <summary>Maps libchecker-replace.so into the guest and has libc's string routines redirected to it.</summary>
    private static void MapStringReplacements(FunctionInterceptor interceptor, CodeWindow window)
    {
        string path = StringReplacements.LibraryPath;
        ElfImage library;
        try { library = ElfImage.Open(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
            throw new EngineException($"cannot open the string replacements {path}: {e.Message}");
        }
        MappedImage mapped = ProgramLoader.MapLibrary(library, window);
        var names = new HashSet<string>(StringReplacements.FunctionNames);
        var entries = library.ReadSymbols()
            .Where(s => s.Type == ElfSymbolType.Func && s.IsDefined && names.Contains(s.Name))
            .ToDictionary(s => s.Name, s => s.Value + mapped.LoadBias);
        foreach ((string alias, string name) in StringReplacements.Aliases)
            if (entries.TryGetValue(name, out ulong entry)) entries[alias] = entry;
        interceptor.UseReplacements(path, entries);
        interceptor.OnModuleMapped(path, mapped.Start);
    }

    public GuestOutcome Run() => _dispatcher.Run(_thread, Program.StartPc);

    public unsafe long IndirectLookups => _thread.Context->IblLookups;

    /// <summary>The leak check at exit: blocks no guest root reaches (null when the heap is not replaced).</summary>
    public unsafe IReadOnlyList<LeakedBlock>? ScanForLeaks()
    {
        if (Heap == null || _interceptor == null) return null;
        ContextBlock* c = _thread.Context;
        var registers = new List<ulong> { c->GuestFsBase, c->GuestGsBase };
        for (int r = 0; r < 16; r++) registers.Add(c->Gpr[r]);
        var memory = new List<(ulong, ulong)> { (c->Rsp, Program.StackTop), (AddressSpaceLayout.BrkStart, Process.Brk.Current) };
        memory.AddRange(_interceptor.Modules.WritableSegments);
        memory.AddRange(Process.AnonymousMappings);
        return LeakScanner.Scan(Heap.LiveChunks, registers, memory);
    }
}
