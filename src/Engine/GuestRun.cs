using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Dispatch;
using Checker.Engine.Heap;
using Checker.Engine.Interception;
using Checker.Engine.Loading;
using Checker.Engine.Memory;
using Checker.Engine.State;
using Checker.Engine.Syscalls;
using Checker.Engine.Translation;
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
    public KernelInterface Kernel => Process.Kernel;

    /// <summary>Loads the program; ELF problems surface as <see cref="ElfFormatException"/>, engine ones as <see cref="EngineException"/>.</summary>
    public static GuestRun Prepare(ElfImage executable, EngineOptions options)
    {
        var cache = new TranslationCache(CodeRegion.ReserveDefault()) { CountIndirectLookups = options.CollectStatistics };
        var kernel = new KernelInterface(cache.Routines.RawSyscall);
        var window = new CodeWindow(AddressSpaceLayout.GuestCodeWindowStart, AddressSpaceLayout.GuestCodeWindowEnd);
        LoadedProgram program = ProgramLoader.Load(executable, options.Arguments, options.Environment, options.ExecFn, window);
        var brk = new GuestBrk(AddressSpaceLayout.BrkStart, AddressSpaceLayout.BrkReservation);
        var process = new GuestProcess(Path.GetFullPath(options.ExecutablePath), brk, window, cache, kernel);
        process.ToolMemory.Add((cache.Region.Start, cache.Region.End, false));
        process.InheritIgnoredSignals(options.InitiallyIgnoredSignals);
        process.ToolDescriptors.UnionWith(options.ToolDescriptors);
        FunctionInterceptor? interceptor = null;
        GuestHeap? heap = null;
        if (options.CheckHeap)
        {
            heap = new GuestHeap(options.RedzoneSize, options.DelayFreesBytes);
            process.ToolMemory.Add((heap.ArenaStart, heap.ArenaEnd, true));
            // The interceptor's module map is filled before any allocation happens; the rule
            // cache only asks it when a callstack is captured.
            FunctionInterceptor? modulesSource = null;
            var rules = new Checker.Symbols.Unwinding.FrameRuleCache(pc => modulesSource!.Modules.Find(pc));
            interceptor = new FunctionInterceptor(new HeapFunctions(heap, program.StackTop, options.CallstackMaxFrames, rules).All());
            modulesSource = interceptor;
            interceptor.OnModuleMapped(program.Executable.Image.Path, program.Executable.Start);
            if (program.Interpreter is MappedImage interp) interceptor.OnModuleMapped(interp.Image.Path, interp.Start);
            process.Interceptor = interceptor;
        }
        var dispatcher = new Dispatcher(cache, new BlockTranslator(cache, interceptor), new SyscallEmulator(process), process, interceptor);
        var thread = GuestThread.CreateOnCurrentThread(kernel);
        unsafe { process.ToolMemory.Add(((ulong)thread.Context, (ulong)thread.Context + (ulong)ContextOffsets.Size, false)); }
        FaultHandlers.Install(cache.Routines, kernel);
        unsafe { thread.Context->Rsp = program.StackPointer; }
        return new GuestRun(cache, process, dispatcher, thread, program) { Heap = heap, _interceptor = interceptor };
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
