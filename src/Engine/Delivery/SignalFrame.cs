using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.State;

namespace Checker.Engine.Delivery;

/// <summary>
/// The kernel's x86-64 rt_sigframe, built on the guest's stack for a handler and read back at its
/// rt_sigreturn: the return address (sa_restorer), a ucontext (flags, link, the alternate stack,
/// the sigcontext registers in the kernel's order, the signal mask) and a siginfo, with the XSAVE
/// image of the vector state above them (uc_mcontext.fpregs points at it). The handler sees the
/// application's pc and registers; what it changes in the ucontext is where the thread goes on.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class SignalFrame
{
    private const int UcFlags = 0, UcStack = 16, UcMcontext = 40, UcSigmask = 40 + 256;
    private const int UcontextSize = UcSigmask + 8;
    private const int SiginfoSize = 128;
    /// <summary>pretcode, ucontext, siginfo.</summary>
    private const int FrameSize = 8 + UcontextSize + SiginfoSize;
    /// <summary>Legacy area, header and every component this CPU has up to PKRU (AVX-512 ends at 2696).</summary>
    public const int FpStateSize = 0xb00;
    private const int FpregsPointer = UcMcontext + 23 * 8;
    private const int UcFpXstate = 1, UcSigcontextSs = 2, UcStrictRestoreSs = 4;
    /// <summary>State components a restored XSAVE header may name: x87, SSE, AVX, MPX, AVX-512, PKRU.</summary>
    private const ulong KnownComponents = 0x2ff;

    /// <summary>sigcontext's register slots in the kernel's order (r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp) as hardware indexes.</summary>
    private static readonly int[] SigcontextOrder = [8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 3, 2, 0, 1, 4];

    /// <summary>
    /// Lays the frame out below <paramref name="stackTop"/> (the interrupted rsp less the red zone,
    /// or the top of the alternate stack) and points the guest's registers at the handler.
    /// Returns false when the stack cannot take the frame (the kernel kills with SIGSEGV then).
    /// </summary>
    public static bool Push(ContextBlock* context, ulong pc, ulong stackTop, in SignalInfo info, ulong handler, ulong restorer,
        ulong savedMask, (ulong Sp, ulong Flags, ulong Size) altStack)
    {
        ulong fp = (stackTop - FpStateSize) & ~63UL;
        ulong frame = ((fp - FrameSize) & ~15UL) - 8;
        var bytes = new byte[fp + FpStateSize - frame];
        fixed (byte* b = bytes)
        {
            *(ulong*)b = restorer;
            byte* uc = b + 8;
            *(ulong*)(uc + UcFlags) = UcFpXstate | UcSigcontextSs | UcStrictRestoreSs;
            *(ulong*)(uc + UcStack) = altStack.Sp;
            *(uint*)(uc + UcStack + 8) = (uint)altStack.Flags;
            *(ulong*)(uc + UcStack + 16) = altStack.Size;
            ulong* gregs = (ulong*)(uc + UcMcontext);
            for (int i = 0; i < 16; i++) gregs[i] = context->Gpr[SigcontextOrder[i]];
            gregs[16] = pc;
            gregs[17] = context->Rflags;
            gregs[18] = 0x2b_0000_0000_0033UL;   // cs 0x33, ss 0x2b, as the kernel reports them
            gregs[19] = info.Error;
            gregs[20] = info.Trap;
            gregs[21] = savedMask;
            gregs[22] = info.Signal == 11 || info.Signal == 7 ? info.Address : 0;   // cr2
            *(ulong*)(uc + FpregsPointer) = fp;
            *(ulong*)(uc + UcSigmask) = savedMask;
            info.WriteTo(new Span<byte>(uc + UcontextSize, SiginfoSize));
            Buffer.MemoryCopy(context->XsaveArea, b + (fp - frame), FpStateSize, FpStateSize);
        }
        if (!GuestMemory.TryWrite(frame, bytes)) return false;
        context->Rsp = frame;
        context->Rdi = (ulong)info.Signal;
        context->Rsi = frame + 8 + UcontextSize;
        context->Rdx = frame + 8;
        context->Rax = 0;
        // The handler starts with DF clear and TF off, as the kernel gives it.
        context->Rflags &= ~0x500UL;
        context->NextPc = handler;
        return true;
    }

    /// <summary>
    /// rt_sigreturn: the ucontext at the guest's rsp (the restorer's ret popped pretcode) gives back
    /// the registers, the pc, the flags, the vector state and the mask. Returns the pc to go on at,
    /// or null when the frame cannot be read (the kernel's SIGSEGV).
    /// </summary>
    public static ulong? Pop(ContextBlock* context, out ulong mask)
    {
        mask = 0;
        ulong uc = context->Rsp;
        var bytes = new byte[UcontextSize];
        if (!GuestMemory.TryRead(uc, bytes)) return null;
        ulong pc;
        fixed (byte* b = bytes)
        {
            ulong* gregs = (ulong*)(b + UcMcontext);
            for (int i = 0; i < 16; i++) context->Gpr[SigcontextOrder[i]] = gregs[i];
            pc = gregs[16];
            // Only the flags a program may change come back (as the kernel's FIX_EFLAGS).
            const ulong UserFlags = 0x3f7fd5;
            context->Rflags = (context->Rflags & ~UserFlags) | (gregs[17] & UserFlags) | 2;
            mask = *(ulong*)(b + UcSigmask);
            ulong fp = *(ulong*)(b + FpregsPointer);
            if (fp != 0) RestoreVectorState(context, fp);
        }
        return pc;
    }

    /// <summary>The XSAVE image back into the block, if its header is one XRSTOR accepts (else the state stays as it is).</summary>
    private static void RestoreVectorState(ContextBlock* context, ulong fp)
    {
        var image = new byte[FpStateSize];
        if (!GuestMemory.TryRead(fp, image)) return;
        fixed (byte* i = image)
        {
            ulong xstateBv = *(ulong*)(i + 512);
            for (int k = 520; k < 576; k++)
                if (i[k] != 0) return;
            if ((xstateBv & ~KnownComponents) != 0) return;
            *(uint*)(i + 24) &= 0xffff;   // MXCSR: reserved bits set would fault in XRSTOR
            Buffer.MemoryCopy(i, context->XsaveArea, FpStateSize, FpStateSize);
            context->VectorsSaved = 0;   // the whole image: XRSTOR at the next entry
        }
    }
}

/// <summary>What the handler's siginfo says: signal, si_code, the sender or the faulting address, and for faults the trap details.</summary>
public readonly record struct SignalInfo(int Signal, int Code, int SenderPid = 0, int SenderUid = 0, ulong Address = 0, ulong Error = 0, ulong Trap = 0,
    byte[]? Raw = null)
{
    /// <summary>si_code values.</summary>
    public const int SiUser = 0, SiTkill = -6, SiQueue = -1, SiKernel = 0x80;

    public void WriteTo(Span<byte> siginfo)
    {
        siginfo.Clear();
        if (Raw != null)
        {
            Raw.AsSpan(0, Math.Min(Raw.Length, siginfo.Length)).CopyTo(siginfo);
            return;
        }
        BitConverter.TryWriteBytes(siginfo[0..], Signal);
        BitConverter.TryWriteBytes(siginfo[8..], Code);
        if (Signal is 4 or 5 or 7 or 8 or 11 && Code > 0) BitConverter.TryWriteBytes(siginfo[16..], Address);
        else
        {
            BitConverter.TryWriteBytes(siginfo[16..], SenderPid);
            BitConverter.TryWriteBytes(siginfo[20..], SenderUid);
        }
    }

    /// <summary>
    /// The kernel's 128-byte signalfd_siginfo for this signal, as its signalfd_copyinfo fills one: the
    /// fields of the siginfo's layout (a child's pid, status and times for a kernel SIGCHLD, a timer's
    /// id, overrun and value, a fault's address, a sender's pid and uid and a queued value).
    /// </summary>
    public void WriteSignalfdInfo(Span<byte> record)
    {
        record.Clear();
        BitConverter.TryWriteBytes(record[0..], Signal);
        if (Raw is null || Raw.Length < 48)
        {
            BitConverter.TryWriteBytes(record[8..], Code);
            BitConverter.TryWriteBytes(record[12..], SenderPid);
            BitConverter.TryWriteBytes(record[16..], SenderUid);
            BitConverter.TryWriteBytes(record[72..], Address);
            return;
        }
        ReadOnlySpan<byte> si = Raw;
        const int SiTimer = -2, Sigchld = 17, Sigpoll = 29;
        int code = BitConverter.ToInt32(si[8..]);
        si[4..12].CopyTo(record[4..]);   // ssi_errno, ssi_code
        if (Signal == Sigchld && code > 0)
        {
            si[16..24].CopyTo(record[12..]);   // ssi_pid, ssi_uid
            si[24..28].CopyTo(record[40..]);   // ssi_status
            si[32..48].CopyTo(record[56..]);   // ssi_utime, ssi_stime
        }
        else if (code == SiTimer)
        {
            si[16..20].CopyTo(record[24..]);   // ssi_tid
            si[20..24].CopyTo(record[32..]);   // ssi_overrun
            si[24..28].CopyTo(record[44..]);   // ssi_int
            si[24..32].CopyTo(record[48..]);   // ssi_ptr
        }
        else if (Signal is 4 or 5 or 7 or 8 or 11 && code > 0)
        {
            si[16..24].CopyTo(record[72..]);   // ssi_addr
        }
        else if (Signal == Sigpoll && code > 0)
        {
            si[16..20].CopyTo(record[28..]);   // ssi_band
            si[24..28].CopyTo(record[20..]);   // ssi_fd
        }
        else
        {
            si[16..24].CopyTo(record[12..]);   // ssi_pid, ssi_uid
            si[24..28].CopyTo(record[44..]);   // ssi_int (a queued value)
            si[24..32].CopyTo(record[48..]);   // ssi_ptr
        }
    }
}
