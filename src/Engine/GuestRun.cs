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
        CreationStackCapture? creationStacks = null;
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
            { Heap = heap, Shadow = shadow, AccessChecker = checker, Overlaps = overlaps, _interceptor = interceptor, _creationStacks = creationStacks };
        process.StartThread = run.StartThread;
        if (shadow != null) process.Unmapped += run.ForgetThreadStacks;
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
            ReleaseThreadId(_thread);
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

    private unsafe delegate ulong[] CreationStackCapture(ContextBlock* context, ulong pc);
    private CreationStackCapture? _creationStacks;

    /// <summary>Host threads have their own C# stacks; symbolizing and unwinding run on them.</summary>
    private const int HostThreadStackSize = 16 << 20;

    /// <summary>clone(CLONE_THREAD): starts the guest thread on a new host thread; its tid once it exists, or -errno.</summary>
    private unsafe long StartThread(ThreadRequest request)
    {
        int number = Process.Threads.NextNumber();
        // The clone's syscall instruction is 2 bytes before the pc the child starts at.
        ulong[] created = _creationStacks?.Invoke(request.Parent.Context, request.StartPc - 2) ?? [];
        var start = new ThreadStart(request, number, created);
        var host = new Thread(() => ThreadMain(start), HostThreadStackSize) { IsBackground = true, Name = $"guest thread {number}" };
        try { host.Start(); }
        catch (OutOfMemoryException) { return -Syscalls.Errno.EAGAIN; }
        start.Ready.Wait();
        return start.Result;
    }

    private sealed class ThreadStart(ThreadRequest request, int number, ulong[] created)
    {
        public ThreadRequest Request { get; } = request;
        public int Number { get; } = number;
        public ulong[] Created { get; } = created;
        public ManualResetEventSlim Ready { get; } = new();
        public long Result { get; set; }
    }

    private unsafe void ThreadMain(ThreadStart start)
    {
        const ulong CloneSettls = 0x80000, CloneParentSettid = 0x100000, CloneChildCleartid = 0x200000, CloneChildSettid = 0x1000000;
        ThreadRequest q = start.Request;
        GuestThread thread;
        try
        {
            thread = GuestThread.CreateOnCurrentThread(Kernel, start.Number, start.Created);
        }
        catch (EngineException)
        {
            start.Result = -Syscalls.Errno.EAGAIN;
            start.Ready.Set();
            return;
        }
        ContextBlock* c = thread.Context, parent = q.Parent.Context;
        // The child is the parent at the syscall: its registers (rax 0, the new stack), flags, vector state.
        for (int r = 0; r < 16; r++) c->Gpr[r] = parent->Gpr[r];
        c->Rflags = parent->Rflags;
        Buffer.MemoryCopy(parent->XsaveArea, c->XsaveArea, ContextOffsets.XsaveAreaSize, ContextOffsets.XsaveAreaSize);
        c->GuestFsBase = (q.Flags & CloneSettls) != 0 ? q.Tls : parent->GuestFsBase;
        c->GuestGsBase = parent->GuestGsBase;
        c->ShadowBase = parent->ShadowBase;
        c->ShadowIndexMask = parent->ShadowIndexMask;
        c->Rax = 0;
        if (q.Stack != 0) c->Rsp = q.Stack;
        c->Rcx = q.StartPc;
        c->R11 = c->Rflags;
        c->UnwindTop = q.Stack != 0 ? q.Stack : parent->UnwindTop;
        TrackThreadStack(c, q.Stack);
        thread.SignalMask = q.Parent.SignalMask;
        long tid = thread.Tid;
        if ((q.Flags & CloneParentSettid) != 0) WriteTid(q.ParentTid, (uint)tid);
        if ((q.Flags & CloneChildSettid) != 0) WriteTid(q.ChildTid, (uint)tid);
        if ((q.Flags & CloneChildCleartid) != 0) thread.ClearChildTid = q.ChildTid;
        Process.Threads.Add(thread);
        start.Result = tid;
        start.Ready.Set();

        GuestOutcome outcome = RunThread(thread, q.StartPc);
        if (outcome is GuestOutcome.ThreadExited)
        {
            ReleaseThreadId(thread);
            return;
        }
        if (!Process.Threads.TryEndProcess(thread)) Process.Threads.StopHere(thread);
        int status = Finisher?.Invoke(outcome) ?? 0;
        Kernel.Call(SyscallNumbers.ExitGroup, status);
    }

    /// <summary>
    /// A thread's stack is tracked like the main one when it is an anonymous mapping of the guest
    /// (glibc's thread stacks): addressable from its initial rsp down as it grows, the 1 MiB below
    /// unaddressable. Any other stack (inside a heap block, say) is left alone.
    /// </summary>
    private unsafe void TrackThreadStack(ContextBlock* c, ulong stack)
    {
        c->StackLimit = c->StackTop = 0;
        if (Shadow == null || stack == 0 || Process.AnonymousMappingAt(stack - 1) is not (ulong low, ulong _)) return;
        c->StackLimit = low;
        c->StackTop = stack;
        ulong openFrom = stack - StackTracking.RedZone - StackTracking.Slack;
        if (openFrom <= low) return;
        ulong closedFrom = Math.Max(low, openFrom - StackTracking.InitialUnaddressable);
        Shadow.Set(closedFrom, openFrom - closedFrom, ShadowState.Unaddressable);
        lock (_markedStacks)
            if (!_markedStacks.Contains((low, stack))) _markedStacks.Add((low, stack));
    }

    // Thread stacks whose shadow TrackThreadStack marked: the only guest mappings with marks in their shadow.
    private readonly List<(ulong Low, ulong Top)> _markedStacks = [];

    /// <summary>
    /// munmap of a thread's stack: its shadow goes back to defined, so whatever is mapped there later
    /// starts clean. Other unmapped memory has nothing marked (resetting every munmap would cost
    /// allocators that map and unmap arenas all the time).
    /// </summary>
    private void ForgetThreadStacks(ulong start, ulong end)
    {
        lock (_markedStacks)
        {
            for (int i = _markedStacks.Count - 1; i >= 0; i--)
            {
                (ulong low, ulong top) = _markedStacks[i];
                if (end <= low || start >= top) continue;
                ulong from = Math.Max(start, low), to = Math.Min(end, top);
                Shadow!.Set(from, to - from, ShadowState.Defined);
                if (from == low && to == top) _markedStacks.RemoveAt(i);
            }
        }
    }

    private static unsafe void WriteTid(ulong address, uint tid) => GuestMemory.TryWrite(address, new ReadOnlySpan<byte>(&tid, 4));

    /// <summary>
    /// What the kernel does when a thread exits: robust mutexes it still holds are marked
    /// FUTEX_OWNER_DIED (and a waiter woken), then clear_child_tid is zeroed and a joiner woken.
    /// </summary>
    private void ReleaseThreadId(GuestThread thread)
    {
        const int FutexWake = 1;
        ReleaseRobustMutexes(thread);
        if (thread.ClearChildTid == 0) return;
        WriteTid(thread.ClearChildTid, 0);
        Kernel.Call(SyscallNumbers.Futex, (long)thread.ClearChildTid, FutexWake, 1);
    }

    /// <summary>The kernel's exit_robust_list: walks the thread's robust list (read defensively, at most 2048 entries).</summary>
    private void ReleaseRobustMutexes(GuestThread thread)
    {
        const uint FutexWaiters = 0x8000_0000, FutexOwnerDied = 0x4000_0000, FutexTidMask = 0x3fff_ffff;
        const int FutexWake = 1;
        ulong head = thread.RobustList;
        if (head == 0 || !GuestMemory.TryReadUInt64(head, out ulong entry) || !GuestMemory.TryReadUInt64(head + 8, out ulong offset)
            || !GuestMemory.TryReadUInt64(head + 16, out ulong pending)) return;
        uint tid = (uint)thread.Tid;
        void Release(ulong node)
        {
            ulong word = node + offset;
            Span<byte> value = stackalloc byte[4];
            if (!GuestMemory.TryRead(word, value)) return;
            uint current = BitConverter.ToUInt32(value);
            if ((current & FutexTidMask) != tid) return;
            uint released = (current & FutexWaiters) | FutexOwnerDied;
            GuestMemory.TryWrite(word, BitConverter.GetBytes(released));
            if ((current & FutexWaiters) != 0) Kernel.Call(SyscallNumbers.Futex, (long)word, FutexWake, 1);
        }
        for (int i = 0; i < 2048 && entry != head && entry != 0; i++)
        {
            ulong next = 0;
            if (!GuestMemory.TryReadUInt64(entry & ~1UL, out next)) break;
            if ((entry & ~1UL) != pending) Release(entry & ~1UL);
            entry = next;
        }
        if (pending != 0) Release(pending & ~1UL);
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
