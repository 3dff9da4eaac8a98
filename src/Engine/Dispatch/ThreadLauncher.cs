using System.Runtime.Versioning;
using Checker.Engine.State;
using Checker.Engine.Syscalls;

namespace Checker.Engine.Dispatch;

/// <summary>
/// clone(CLONE_THREAD): a guest thread on a host thread of its own. The child starts as the parent
/// at the syscall (its registers, flags and vector state; rax 0, the new stack, the new TLS), its tid
/// is written where CLONE_PARENT_SETTID/CLONE_CHILD_SETTID ask before the parent's clone returns,
/// the tool hears of it before its first instruction, and when it ends the
/// process its host thread finishes the run.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class ThreadLauncher(GuestProcess process, Func<GuestThread, ulong, GuestOutcome> runThread,
    Func<Func<GuestOutcome, int>?> finisher)
{
    /// <summary>Host threads have their own C# stacks; symbolizing and unwinding run on them.</summary>
    private const int HostThreadStackSize = 16 << 20;

    /// <summary>clone(CLONE_THREAD): starts the guest thread on a new host thread; its tid once it exists, or -errno.</summary>
    public long Start(ThreadRequest request)
    {
        int number = process.Threads.NextNumber();
        // The clone's syscall instruction is 2 bytes before the pc the child starts at.
        ulong[] created = process.Tool.CaptureThreadCreation(request.Parent.Context, request.StartPc - 2);
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
            thread = GuestThread.CreateOnCurrentThread(process.Kernel, process.Tool.SegmentBase, start.Number, start.Created);
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
        c->VectorsSaved = 0;   // the parent's whole image: XRSTOR at the child's first entry
        c->GuestFsBase = (q.Flags & CloneSettls) != 0 ? q.Tls : parent->GuestFsBase;
        c->GuestGsBase = parent->GuestGsBase;
        c->Rax = 0;
        if (q.Stack != 0) c->Rsp = q.Stack;
        c->Rcx = q.StartPc;
        c->R11 = c->Rflags;
        c->UnwindTop = q.Stack != 0 ? q.Stack : parent->UnwindTop;
        process.Tool.OnThreadStarted(thread, q.Parent, q.Stack);
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
            process.Tool.OnThreadExited(thread);
            // Before the joiner may go on and fork: this host thread still ends in the runtime.
            process.ForkGate.Ending((int)tid);
            ThreadExit.Release(thread, process.Kernel);
            thread.Retire(process.Kernel);
            return;
        }
        if (!process.Threads.TryEndProcess(thread)) process.Threads.StopHere(thread);
        process.Tool.OnProcessExit(outcome);
        int status = finisher()?.Invoke(outcome) ?? 0;
        process.Kernel.Call(SyscallNumbers.ExitGroup, status);
    }
}
