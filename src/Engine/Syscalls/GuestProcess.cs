using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Memory;

namespace Checker.Engine.Syscalls;

/// <summary>Process-wide guest state that emulated system calls read and change.</summary>
[SupportedOSPlatform("linux")]
public sealed class GuestProcess(string executablePath, GuestBrk brk, CodeWindow codeWindow, TranslationCache cache, KernelInterface kernel)
{
    public const int SignalCount = 65;
    /// <summary>Kernel <c>struct sigaction</c> size: handler, flags, restorer, mask.</summary>
    public const int SigactionSize = 32;

    /// <summary>Absolute path of the guest executable (the interpreter of a script), as started: see <see cref="SelfExecutable"/>.</summary>
    public string ExecutablePath { get; } = executablePath;
    public GuestBrk Brk { get; } = brk;
    public CodeWindow CodeWindow { get; } = codeWindow;
    public TranslationCache Cache { get; } = cache;
    public KernelInterface Kernel { get; } = kernel;
    /// <summary>The guest's own system calls, passed through (see <see cref="Emission.RuntimeRoutines.GuestSyscall"/>).</summary>
    public KernelInterface GuestKernel { get; } = new(cache.Routines.GuestSyscall);
    /// <summary>Queues and runs the guest's signal handlers.</summary>
    public Delivery.SignalDelivery Signals => _signals ??= new(this, Cache);
    private Delivery.SignalDelivery? _signals;

    /// <summary>The guest's live threads and the end of the process.</summary>
    public Dispatch.GuestThreads Threads { get; } = new(kernel);

    /// <summary>Keeps forks apart from host threads that run engine code for the guest (signals from outside).</summary>
    public ForkGate ForkGate { get; } = new();

    /// <summary>Starts a guest thread for clone(CLONE_THREAD) (set by the run); returns its tid or -errno.</summary>
    public Func<ThreadRequest, long>? StartThread { get; set; }

    /// <summary>The ELF modules loaded in the guest (pc to module, writable segments).</summary>
    public ModuleMap Modules { get; } = new();

    /// <summary>
    /// An ELF file mapped whole at <paramref name="start"/> (the loader's images, or ld.so mapping a
    /// library): recorded, its functions replaced, the tool told.
    /// </summary>
    /// <param name="isProgram">The executable itself (its own malloc, if it defines one, is left alone: <see cref="Interception.FunctionInterceptor"/>).</param>
    public void ModuleMapped(string path, ulong start, bool isProgram = false)
    {
        Symbols.Elf.ElfImage image;
        try { image = Symbols.Elf.ElfImage.Open(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Symbols.Elf.ElfFormatException) { return; }
        (ulong low, ulong high) = Modules.OnMapped(image, start);
        Interceptor?.OnModuleMapped(image, start, isProgram);
        Tool.OnModuleLoaded(path, low, high);
    }

    /// <summary>[start, end) was unmapped: the modules and replaced entry points there are gone.</summary>
    internal void ModuleRangeUnmapped(ulong start, ulong end)
    {
        Interceptor?.OnUnmapped(start, end);
        foreach ((ulong low, ulong high, string path) in Modules.OnUnmapped(start, end)) Tool.OnModuleUnloaded(path, low, high);
    }

    /// <summary>Serializes the emulated calls that change process-wide guest state with translation (the cache's lock).</summary>
    public object Lock => Cache.Lock;
    /// <summary>What the guest has mapped, with which protection (what it may execute, above all).</summary>
    public GuestMappings Mappings { get; } = new();
    /// <summary>Places the guest's mappings that name no address (in the guest's region, top-down below the stack).</summary>
    public GuestAddressAllocator Addresses => _addresses ??= new GuestAddressAllocator(Mappings);
    private GuestAddressAllocator? _addresses;

    /// <summary>Replaced functions (the malloc family under --tool memcheck); null when nothing is replaced.</summary>
    public Interception.FunctionInterceptor? Interceptor { get; set; }

    /// <summary>The tool the program runs under (<see cref="Tools.NoTool"/> for --tool none): its events are raised from the engine.</summary>
    public Tools.Tool Tool { get; set; } = new Tools.NoTool();

    /// <summary>The guest's signal actions (kernel struct sigaction each): what delivery runs.</summary>
    public byte[][] SignalActions { get; } = Enumerable.Range(0, SignalCount).Select(_ => new byte[SigactionSize]).ToArray();
    /// <summary>Signals whose SIG_IGN disposition was passed to the kernel.</summary>
    public HashSet<int> KernelIgnored { get; } = [];
    /// <summary>The host's kernel action for a signal, saved when the guest's SIG_IGN replaced it (restored when the guest stops ignoring).</summary>
    public byte[]?[] HostActions { get; } = new byte[SignalCount][];

    /// <summary>Set when the guest is to die of a signal (its default action).</summary>
    public int KilledBySignal { get; private set; }

    public void Kill(int signal)
    {
        if (Exited) return;
        KilledBySignal = signal;
        Exited = true;
    }

    /// <summary>
    /// A stop signal's default action, carried out by the kernel on memcheck's whole process as it would
    /// be on the program's: process-directed, so that a thread not blocking it (memcheck's own; guest
    /// threads block every signal) takes it and the group stops until a SIGCONT.
    /// </summary>
    public void StopForReal(int signal) => Kernel.Call(SyscallNumbers.Kill, Kernel.Call(SyscallNumbers.Getpid), signal);

    /// <summary>Dispositions that survive execve: what was ignored when memcheck started is ignored for the guest.</summary>
    public void InheritIgnoredSignals(ulong mask)
    {
        for (int signal = 1; signal < SignalCount; signal++)
        {
            if ((mask & (1UL << (signal - 1))) == 0) continue;
            BitConverter.TryWriteBytes(SignalActions[signal], 1UL /* SIG_IGN */);
            KernelIgnored.Add(signal);
        }
    }

    /// <summary>
    /// memcheck's own memory (code cache, heap arena, context blocks): the guest may not map over,
    /// unmap or re-protect it; those calls fail with EINVAL, as under Valgrind.
    /// </summary>
    /// <remarks>
    /// <c>HoldsGuestData</c>: the heap arena holds the guest's own blocks, which it may mprotect
    /// (guard pages over memalign'd memory), though never unmap or map over.
    /// </remarks>
    public List<(ulong Start, ulong End, bool HoldsGuestData)> ToolMemory { get; } = [];

    public bool OverlapsToolMemory(ulong start, ulong length, bool protectOnly = false)
    {
        ulong end = start + length;
        if (end < start) return true;
        foreach ((ulong s, ulong e, bool guestData) in ToolMemory)
            if (start < e && s < end && !(protectOnly && guestData)) return true;
        return false;
    }

    /// <summary>Anonymous memory the guest mapped itself (arenas, ld.so's early allocations): leak-scan roots.</summary>
    public IReadOnlyList<(ulong Start, ulong End)> AnonymousMappings => _anonymous.Ranges.Select(r => (r.Start, r.End)).ToList();

    // An interval map, not a list: programs with tens of thousands of mappings munmap them one by one.
    private readonly GuestMappings _anonymous = new();

    public void RememberAnonymous(ulong start, ulong end) => _anonymous.Map(start, end - start, GuestMappings.Read | GuestMappings.Write);

    public void ForgetAnonymous(ulong start, ulong end) => _anonymous.Unmap(start, end - start);

    /// <summary>The program's own RLIMIT_AS and RLIMIT_DATA, never the kernel's (see <see cref="Syscalls.MemoryLimits"/>).</summary>
    public MemoryLimits MemoryLimits { get; } = new(kernel);

    /// <summary>memcheck's own descriptors outside any range (its report stream in JIT builds): the guest's close and dup2 cannot touch them.</summary>
    public HashSet<int> ToolDescriptors { get; } = [];

    /// <summary>memcheck's descriptor range and the guest's view of RLIMIT_NOFILE; null without one (JIT builds, tests).</summary>
    public DescriptorRange? Descriptors { get; private set; }

    /// <summary>
    /// memcheck's own descriptors: <paramref name="range"/> (null: none), and the guest executable's
    /// (<see cref="SelfExecutable"/>, opened now: the guest may delete or rename the file later).
    /// From here on the kernel holds the guest to its own RLIMIT_NOFILE.
    /// </summary>
    public void SetUpDescriptors(DescriptorRange? range)
    {
        Descriptors = range;
        _self = new SelfExecutable(ExecutablePath, range?.Start ?? Native.HostProcess.DefaultToolDescriptorStart);
        if (range?.IsTools((ulong)_self.Descriptor) != true) ToolDescriptors.Add(_self.Descriptor);
        range?.ApplyGuestLimit(Kernel);
    }

    /// <summary>Whether <paramref name="fd"/> is one of memcheck's own.</summary>
    public bool IsToolDescriptor(ulong fd) =>
        (fd <= int.MaxValue && ToolDescriptors.Contains((int)fd)) || Descriptors?.IsTools(fd) == true;

    /// <summary>What /proc/self/exe is to the guest.</summary>
    public SelfExecutable SelfExecutable => _self ?? throw new InvalidOperationException("SetUpDescriptors was not called");
    private SelfExecutable? _self;

    /// <summary>
    /// Before an execve that should succeed is passed to the kernel, with the program it runs: if it
    /// succeeds, this process ends there, so the report layer writes what it has first.
    /// </summary>
    public event Action<string>? Execing;

    /// <summary>The execve announced by <see cref="Execing"/> failed (errno): the program goes on.</summary>
    public event Action<string, int>? ExecFailed;

    /// <summary>In the child of a fork, right after it (the child's report is its own from here).</summary>
    public event Action? ForkedChild;

    /// <summary>
    /// Asked before an exec that should succeed: memcheck runs the new program itself when this
    /// returns how (--trace-children); null (or no hook) runs it natively.
    /// </summary>
    public Func<ExecRequest, FollowedExec?>? FollowExec { get; set; }

    /// <summary>In the child of a vfork (CLONE_VM|CLONE_VFORK): the parent waiting for it, to be handed its memory writes.</summary>
    public VforkChannel? VforkParent { get; internal set; }

    /// <summary>Whether this process is a vfork child (posix_spawn's, system()'s, popen()'s): its memory is its parent's natively.</summary>
    public bool IsVforkChild => VforkParent != null;

    internal void OnExecing(string program)
    {
        Tool.OnExec(program);
        Execing?.Invoke(program);
    }

    internal void OnExecFailed(string program, int errno)
    {
        Tool.OnExecFailed(program, errno);
        ExecFailed?.Invoke(program, errno);
    }

    internal void OnForkedChild()
    {
        Tool.OnForkedChild();
        ForkedChild?.Invoke();
    }

    /// <summary>
    /// Set in parent and child when a fork succeeds, and when the guest calls execve: from then on
    /// another process may write to the same output, so memcheck's lines name their pid.
    /// </summary>
    public bool ForkedOrExeced { get; internal set; }

    /// <summary>Threads the guest has had, the main one included.</summary>
    public int ThreadsStarted => Threads.Started;

    /// <summary>A guest anonymous mapping containing <paramref name="address"/> (a thread's stack, say), if any.</summary>
    public (ulong Start, ulong End)? AnonymousMappingAt(ulong address) => _anonymous.RangeAt(address);

    public bool Exited { get; private set; }
    public int ExitStatus { get; private set; }

    public void Exit(int status)
    {
        if (Exited) return;   // another thread ended the process first
        ExitStatus = status & 0xff;
        Exited = true;
    }
}
