using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.Engine.State;

namespace Checker.Engine.Tools;

/// <summary>
/// What the engine runs a program for, as a DynamoRIO client or a Valgrind tool: the engine loads,
/// translates, dispatches and emulates and knows nothing of shadows or heaps; a tool instruments
/// each block as it is translated (<see cref="CreateInstrumenter"/>), listens to the events below
/// and to <see cref="Syscalls.GuestProcess"/>'s, and replaces functions through
/// <see cref="ToolHost.Interceptor"/>. Every event has an empty default: <see cref="NoTool"/>
/// (--tool none) overrides nothing.
/// </summary>
[SupportedOSPlatform("linux")]
public abstract unsafe class Tool
{
    /// <summary>
    /// The gs base of every guest thread, for the tool's generated code (memcheck: its shadow's
    /// base, so gs:[a &gt;&gt; 2] is a's shadow byte); 0 when the tool has none. Guest gs is emulated.
    /// </summary>
    public virtual ulong SegmentBase => 0;

    /// <summary>Once, after the program is loaded and before its first instruction (no guest thread exists yet).</summary>
    public virtual void Attach(ToolHost host) { }

    /// <summary>The pass that instruments blocks for one translator (translation runs under the cache lock); null: code is copied as is.</summary>
    public virtual BlockInstrumenter? CreateInstrumenter() => null;

    /// <summary>
    /// What this tool's translations depend on besides the guest's code (its options, in a stable
    /// text), when they may be persisted across runs (<see cref="CodeCache.PersistedTranslations"/>);
    /// null: they may not (a tool that keeps per-translation state of its own must save it too).
    /// </summary>
    public virtual string? TranslationKey => null;

    /// <summary>
    /// The tool's own translation state that persisted code depends on (tables its code names by id,
    /// code it placed outside the fragments), written after the code and before the cache's records, under the cache lock.
    /// </summary>
    public virtual void SaveTranslationState(BinaryWriter writer) { }

    /// <summary>Reads and checks what <see cref="SaveTranslationState"/> wrote, without taking it into use (throws <see cref="InvalidDataException"/>).</summary>
    public virtual object? ReadTranslationState(BinaryReader reader) => null;

    /// <summary>Takes what <see cref="ReadTranslationState"/> read into use: once the snapshot is whole, before any translation.</summary>
    public virtual void RestoreTranslationState(object? state) { }

    /// <summary>
    /// A guest thread's context block is ready, before its first instruction: the main thread
    /// (<paramref name="parent"/> null, <paramref name="stackPointer"/> its initial rsp) or a clone'd one
    /// (<paramref name="stackPointer"/> the stack clone gave it, 0 when it shares its parent's).
    /// </summary>
    public virtual void OnThreadStarted(GuestThread thread, GuestThread? parent, ulong stackPointer) { }

    /// <summary>The stack to remember as where a thread was created (its clone's pc first), for reports; none by default.</summary>
    public virtual ulong[] CaptureThreadCreation(ContextBlock* parent, ulong clonePc) => [];

    /// <summary>
    /// A tool routine left the cache with <see cref="Emission.ExitIds.ToolExit"/> (memcheck: an access
    /// check found a bad byte). Called under the cache lock; the thread then resumes at gs:[LinkReturn],
    /// or, when this returns an application pc, goes on there through the dispatcher (in the mode
    /// <see cref="ModeOf"/> then gives), its registers as the context block holds them.
    /// </summary>
    public virtual ulong? OnToolExit(ContextBlock* context) => null;

    /// <summary>
    /// The translation mode for the thread's next block, asked by the dispatcher at every block it
    /// enters (memcheck: plain, or propagating when a block uses a register holding an undefined value). Blocks are translated per
    /// mode and link only within their mode (the indirect branches of other modes return to the
    /// dispatcher), so a fragment must never leave the thread in a state its mode cannot run
    /// without exiting; a mode other than 0 must be able to run any state (it stays there until
    /// the thread next passes the dispatcher).
    /// </summary>
    public virtual int ModeOf(ContextBlock* context) => 0;

    /// <summary>Before a guest system call the engine performs or emulates (the registers are in the block; <paramref name="pc"/> is the syscall instruction's).</summary>
    public virtual void OnSyscallBefore(ContextBlock* context, long number, ulong pc) { }

    /// <summary>After it, with its result in rax (not called for calls that do not return: exit, execve that succeeds, rt_sigreturn).</summary>
    public virtual void OnSyscallAfter(ContextBlock* context, long number, long result) { }

    /// <summary>The engine wrote a signal frame for a handler into guest memory [start, end).</summary>
    public virtual void OnSignalFrame(GuestThread thread, int signal, ulong start, ulong end) { }

    /// <summary>
    /// A faulting access (SIGSEGV/SIGBUS) the program's own handler is about to take: memcheck reports
    /// it first, as Valgrind does (the access is still a bug, whoever catches the signal).
    /// </summary>
    public virtual void OnFaultHandledByProgram(GuestFault fault) { }

    /// <summary>A thread ends (exit, or the process ending under it), on its own host thread, before its context block is freed.</summary>
    public virtual void OnThreadExited(GuestThread thread) { }

    /// <summary>sigaltstack gave <paramref name="thread"/> a stack for its handlers at [start, start+size) (size 0: disabled).</summary>
    public virtual void OnAlternateStack(GuestThread thread, ulong start, ulong size) { }

    /// <summary>An ELF module mapped whole at [start, end) (the executable, ld.so, a library ld.so maps).</summary>
    public virtual void OnModuleLoaded(string path, ulong start, ulong end) { }

    /// <summary>A module's range was unmapped (dlclose).</summary>
    public virtual void OnModuleUnloaded(string path, ulong start, ulong end) { }

    /// <summary>
    /// The guest mapped [start, start+length) (mmap, shmat; page-rounded) with <paramref name="protection"/>
    /// (PROT_* bits): anonymous memory is zeros, a file's is its contents; either replaces what was there.
    /// </summary>
    public virtual void OnMemoryMapped(ulong start, ulong length, int protection, bool anonymous) { }

    /// <summary>The guest unmapped [start, end) (munmap, shmdt; page-rounded).</summary>
    public virtual void OnMemoryUnmapped(ulong start, ulong end) { }

    /// <summary>mprotect of [start, start+length) to <paramref name="protection"/>.</summary>
    public virtual void OnMemoryProtected(ulong start, ulong length, int protection) { }

    /// <summary>mremap moved or resized [oldStart, oldStart+oldLength) to [newStart, newStart+newLength) (contents kept).</summary>
    public virtual void OnMemoryRemapped(ulong oldStart, ulong oldLength, ulong newStart, ulong newLength) { }

    /// <summary>The program break moved from <paramref name="oldEnd"/> to <paramref name="newEnd"/> (grown memory is zeros).</summary>
    public virtual void OnBrk(ulong oldEnd, ulong newEnd) { }

    /// <summary>In the child of a fork (or vfork), right after it.</summary>
    public virtual void OnForkedChild() { }

    /// <summary>Before an execve that should succeed replaces this process with <paramref name="program"/>.</summary>
    public virtual void OnExec(string program) { }

    /// <summary>The execve announced by <see cref="OnExec"/> failed with <paramref name="errno"/>: the program goes on.</summary>
    public virtual void OnExecFailed(string program, int errno) { }

    /// <summary>
    /// The process ends (exit_group, its last thread's exit, a fatal signal, a signal from outside),
    /// once, with every other thread stopped, before memcheck's final reports.
    /// </summary>
    public virtual void OnProcessExit(GuestOutcome outcome) { }

    /// <summary>
    /// A Valgrind client request (valgrind.h's magic sequence) the engine does not answer itself
    /// (it answers RUNNING_ON_VALGRIND and DISCARD_TRANSLATIONS as Valgrind's core does): the result
    /// goes to the program in rdx. The default answer is <see cref="ClientRequest.Default"/>, what the
    /// program gets natively. Called on the requesting thread at a safe point (its registers in the
    /// block), without the cache lock: the tool takes what it needs.
    /// </summary>
    public virtual ulong OnClientRequest(GuestThread thread, ClientRequest request) => request.Default;

    /// <summary>
    /// Memory the tool's inline code reads on the guest's behalf (memcheck's shadow): a fault there is
    /// a fault of the application access it stands for (see <see cref="ProbeCovers"/>).
    /// </summary>
    public virtual bool IsProbeAddress(ulong address) => false;

    /// <summary>Whether a probe fault at <paramref name="probe"/> stands for an access of <paramref name="size"/> bytes at <paramref name="address"/>.</summary>
    public virtual bool ProbeCovers(ulong probe, ulong address, int size) => false;

    /// <summary>A fault inside one of the tool's shared routines: the application pc it was working for, if known.</summary>
    public virtual ulong? RoutineFaultPc(ContextBlock* context) => null;

    /// <summary>State translation at a fault in a fragment: put back into <paramref name="registers"/> the guest values the tool's inline code had borrowed at <paramref name="cachePc"/>.</summary>
    public virtual void RestoreBorrowedRegisters(ulong cachePc, ContextBlock* context, ulong[] registers) { }

    /// <summary>
    /// A vfork child's tool state the parent must replay once the child execs or exits (memcheck: its
    /// heap operations, since the child ran on the parent's heap). Started in the child, taken there,
    /// replayed in the parent.
    /// </summary>
    public virtual void OnVforkChild() { }
    public virtual byte[]? TakeVforkJournal() => null;
    public virtual void ReplayVforkJournal(byte[] journal) { }
    /// <summary>A fork of the vfork child: the grandchild is no longer the process the parent waits for.</summary>
    public virtual void OnVforkChildForked() { }

    /// <summary>
    /// Bytes of the tool's own state that go with each guest page a vfork child sends its parent
    /// (<see cref="Syscalls.VforkChannel"/>; 0: none). memcheck: the page's definedness, or the
    /// parent would see the child's writes with its own shadow (a block the child allocated and
    /// filled read as undefined).
    /// </summary>
    public virtual int VforkPageStateBytes => 0;

    /// <summary>In the child: the state of the guest page at <paramref name="address"/> into <paramref name="state"/> (<see cref="VforkPageStateBytes"/> long).</summary>
    public virtual void ReadVforkPageState(ulong address, Span<byte> state) { }

    /// <summary>In the parent, after the child's bytes of the page were written over its own: the child's state of it.</summary>
    public virtual void WriteVforkPageState(ulong address, ReadOnlySpan<byte> state) { }
}

/// <summary>--tool none: the engine alone, nothing instrumented, nothing replaced.</summary>
[SupportedOSPlatform("linux")]
public sealed class NoTool : Tool
{
    public override string TranslationKey => "none";
}
