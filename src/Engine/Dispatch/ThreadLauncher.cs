using System.Runtime.Versioning;
using Checker.Engine.Instrumentation;
using Checker.Engine.State;
using Checker.Engine.Syscalls;
using Checker.Shadow;

namespace Checker.Engine.Dispatch;

/// <summary>
/// clone(CLONE_THREAD): a guest thread on a host thread of its own. The child starts as the parent
/// at the syscall (its registers, flags and vector state; rax 0, the new stack, the new TLS), its tid
/// is written where CLONE_PARENT_SETTID/CLONE_CHILD_SETTID ask before the parent's clone returns,
/// its stack is tracked like the main one when it is a guest anonymous mapping, and when it ends the
/// process its host thread finishes the run.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class ThreadLauncher(GuestProcess process, Func<GuestThread, ulong, GuestOutcome> runThread,
    Func<Func<GuestOutcome, int>?> finisher, ShadowMemory? shadow)
{
    /// <summary>Where a clone was called from: the syscall's pc, then the caller's stack.</summary>
    public delegate ulong[] CreationStackCapture(ContextBlock* context, ulong pc);

    /// <summary>Captures the stack that creates each thread (null under --tool none: no reports).</summary>
    public CreationStackCapture? CreationStacks { get; init; }

    /// <summary>Host threads have their own C# stacks; symbolizing and unwinding run on them.</summary>
    private const int HostThreadStackSize = 16 << 20;

    /// <summary>clone(CLONE_THREAD): starts the guest thread on a new host thread; its tid once it exists, or -errno.</summary>
    public long Start(ThreadRequest request)
    {
        int number = process.Threads.NextNumber();
        // The clone's syscall instruction is 2 bytes before the pc the child starts at.
        ulong[] created = CreationStacks?.Invoke(request.Parent.Context, request.StartPc - 2) ?? [];
        var start = new ThreadStart(request, number, created);
        var host = new Thread(() => ThreadMain(start), HostThreadStackSize) { IsBackground = true, Name = $"guest thread {number}" };
        try { host.Start(); }
        catch (OutOfMemoryException) { return -Errno.EAGAIN; }
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

    private void ThreadMain(ThreadStart start)
    {
        const ulong CloneSettls = 0x80000, CloneParentSettid = 0x100000, CloneChildCleartid = 0x200000, CloneChildSettid = 0x1000000;
        ThreadRequest q = start.Request;
        GuestThread thread;
        try
        {
            thread = GuestThread.CreateOnCurrentThread(process.Kernel, start.Number, start.Created);
        }
        catch (EngineException)
        {
            start.Result = -Errno.EAGAIN;
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
        if ((q.Flags & CloneParentSettid) != 0) ThreadExit.WriteTid(q.ParentTid, (uint)tid);
        if ((q.Flags & CloneChildSettid) != 0) ThreadExit.WriteTid(q.ChildTid, (uint)tid);
        if ((q.Flags & CloneChildCleartid) != 0) thread.ClearChildTid = q.ChildTid;
        process.Threads.Add(thread);
        start.Result = tid;
        start.Ready.Set();

        GuestOutcome outcome = runThread(thread, q.StartPc);
        if (outcome is GuestOutcome.ThreadExited)
        {
            ThreadExit.Release(thread, process.Kernel);
            thread.Retire(process.Kernel);
            return;
        }
        if (!process.Threads.TryEndProcess(thread)) process.Threads.StopHere(thread);
        int status = finisher()?.Invoke(outcome) ?? 0;
        process.Kernel.Call(SyscallNumbers.ExitGroup, status);
    }

    /// <summary>
    /// A thread's stack is tracked like the main one when it is an anonymous mapping of the guest
    /// (glibc's thread stacks): addressable from its initial rsp down as it grows, the 1 MiB below
    /// unaddressable. Any other stack (inside a heap block, say) is left alone.
    /// </summary>
    private void TrackThreadStack(ContextBlock* c, ulong stack)
    {
        c->StackLimit = c->StackTop = 0;
        if (shadow == null || stack == 0 || process.AnonymousMappingAt(stack - 1) is not (ulong low, ulong _)) return;
        c->StackLimit = low;
        c->StackTop = stack;
        ulong openFrom = stack - StackTracking.RedZone - StackTracking.Slack;
        if (openFrom <= low) return;
        ulong closedFrom = Math.Max(low, openFrom - StackTracking.InitialUnaddressable);
        shadow.Set(closedFrom, openFrom - closedFrom, ShadowState.Unaddressable);
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
    public void ForgetThreadStacks(ulong start, ulong end)
    {
        lock (_markedStacks)
        {
            for (int i = _markedStacks.Count - 1; i >= 0; i--)
            {
                (ulong low, ulong top) = _markedStacks[i];
                if (end <= low || start >= top) continue;
                ulong from = Math.Max(start, low), to = Math.Min(end, top);
                shadow!.Set(from, to - from, ShadowState.Defined);
                if (from == low && to == top) _markedStacks.RemoveAt(i);
            }
        }
    }
}
