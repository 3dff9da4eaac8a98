using Checker.Engine.State;

namespace Checker.Engine.Heap;

/// <summary>
/// Raw return addresses at an intercepted call, captured cheaply (DESIGN: no stack scan per
/// allocation; symbolize lazily, only for blocks that end up in a report): the caller's return
/// address, then the frame-pointer chain while it stays inside the guest stack and moves up.
/// Code built without frame pointers yields only the first frames; the CFI unwinder refines
/// report stacks later.
/// </summary>
public static unsafe class CallstackCapture
{
    public static ulong[] Capture(ContextBlock* context, ulong stackTop, int maxFrames)
    {
        var frames = new List<ulong>(maxFrames);
        ulong rsp = context->Rsp;
        if (rsp + 8 <= stackTop) frames.Add(*(ulong*)rsp);
        ulong rbp = context->Gpr[5];
        while (frames.Count < maxFrames && rbp >= rsp && rbp + 16 <= stackTop && (rbp & 7) == 0)
        {
            ulong returnAddress = ((ulong*)rbp)[1];
            ulong next = ((ulong*)rbp)[0];
            if (returnAddress < 0x1000) break;
            frames.Add(returnAddress);
            if (next <= rbp) break;
            rbp = next;
        }
        return frames.ToArray();
    }
}
