using Checker.Engine.State;
using Checker.Symbols.Unwinding;
using Iced.Intel;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The guest's errno, so a replaced malloc that fails sets it as glibc's does (ENOMEM, EINVAL).
/// errno is thread-local at a fixed offset from the thread pointer (fs base) that only the C
/// library knows; its <c>__errno_location</c> computes it in two instructions: glibc's shared
/// library loads the offset from its GOT (<c>mov rax, [rip+got]; add rax, fs:[0]; ret</c>), a
/// static one has it as an immediate (<c>mov rax, -0x48; add rax, fs:[0]; ret</c>). Those few
/// instructions are evaluated here once (the offset is the same for every thread); anything else
/// leaves errno alone rather than guess.
/// </summary>
public sealed unsafe class GuestErrno(Func<ulong?> errnoLocationFunction)
{
    private const int MaxInstructions = 6;
    private long? _threadPointerOffset;
    private bool _resolved;

    /// <summary>Sets errno of the thread whose registers are <paramref name="context"/>; false when errno could not be found.</summary>
    public bool Set(ContextBlock* context, int value)
    {
        if (context->GuestFsBase == 0) return false;   // before the C library set up its thread pointer
        if (!_resolved && errnoLocationFunction() is ulong function)
        {
            _resolved = true;
            _threadPointerOffset = Evaluate(function, context->GuestFsBase) is ulong address ? (long)(address - context->GuestFsBase) : null;
        }
        if (_threadPointerOffset is not long offset) return false;
        ulong errno = context->GuestFsBase + (ulong)offset;
        if (!ProcessMemoryReader.Current.TryRead(errno, stackalloc byte[4])) return false;   // mapped and readable: then writable TLS
        *(int*)errno = value;
        return true;
    }

    /// <summary>What <c>__errno_location</c> at <paramref name="function"/> returns for a thread whose fs base is <paramref name="fsBase"/>; null if its code is not the expected shape.</summary>
    public static ulong? Evaluate(ulong function, ulong fsBase)
    {
        byte[] code = new byte[MaxInstructions * 15];
        int length = code.Length;
        while (length > 0 && !ProcessMemoryReader.Current.TryRead(function, code.AsSpan(0, length))) length /= 2;
        if (length == 0) return null;
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code, 0, length), function);
        ulong? rax = null;
        for (int i = 0; i < MaxInstructions; i++)
        {
            decoder.Decode(out Instruction ins);
            if (ins.IsInvalid) return null;
            switch (ins.Mnemonic)
            {
                case Mnemonic.Endbr64 or Mnemonic.Nop:
                    continue;
                case Mnemonic.Ret:
                    return rax;
            }
            if (ins.Op0Kind != OpKind.Register || ins.Op0Register != Register.RAX) return null;
            ulong? source = Source(ins, fsBase);
            if (source is not ulong value) return null;
            if (ins.Mnemonic == Mnemonic.Mov) rax = value;
            else if (ins.Mnemonic == Mnemonic.Add && rax is ulong sum) rax = sum + value;
            else return null;
        }
        return null;
    }

    // The second operand: an immediate, a RIP-relative qword, or the qword at fs:[0] (the thread pointer).
    private static ulong? Source(in Instruction ins, ulong fsBase)
    {
        if (ins.OpCount != 2) return null;
        switch (ins.Op1Kind)
        {
            case OpKind.Immediate32to64 or OpKind.Immediate64 or OpKind.Immediate32:
                return ins.GetImmediate(1);
            case OpKind.Memory when ins.IsIPRelativeMemoryOperand:
                return ProcessMemoryReader.Current.TryReadUInt64(ins.IPRelativeMemoryAddress, out ulong word) ? word : null;
            case OpKind.Memory when ins.SegmentPrefix == Register.FS && ins.MemoryBase == Register.None && ins.MemoryIndex == Register.None:
                return ProcessMemoryReader.Current.TryReadUInt64(fsBase + ins.MemoryDisplacement64, out ulong tls) ? tls : null;
            default:
                return null;
        }
    }
}
