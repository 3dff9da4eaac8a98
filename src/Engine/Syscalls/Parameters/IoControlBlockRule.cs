namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// io_submit's iocbpp: an array of pointers to struct iocb (64 bytes, read whole by the kernel), each
/// naming a buffer by its opcode: IOCB_CMD_PREAD fills aio_nbytes bytes at aio_buf, IOCB_CMD_PWRITE
/// reads them, IOCB_CMD_PREADV/PWRITEV do the same through an iovec array of aio_nbytes elements.
/// A read completes later, in io_getevents; its buffer counts as written when it is submitted, as
/// Valgrind counts it, so the data it brings is never taken for undefined.
/// </summary>
internal sealed class IoControlBlockRule(int argument, int countArgument) : ParameterRule
{
    private const ulong BlockSize = 64, OpcodeOffset = 16, BufferOffset = 24, LengthOffset = 32;
    private const ushort CmdPread = 0, CmdPwrite = 1, CmdPreadv = 7, CmdPwritev = 8;

    /// <summary>More than this many blocks in one call are not followed (the kernel bounds nr by the context's size).</summary>
    private const ulong MaxBlocks = 4096;

    public override void Before(in SyscallCall call)
    {
        string label = call.Syscall.Arguments[argument];
        ulong array = call.Arg(argument), count = Math.Min(call.Arg(countArgument), MaxBlocks);
        if (count == 0) return;
        call.Add(label, array, count * 8, KernelAccess.Reads);
        for (ulong i = 0; i < count; i++)
        {
            if (!call.TryReadUInt64(array + i * 8, out ulong block)) return;
            call.Add($"{label}[{i}]", block, BlockSize, KernelAccess.Reads);
            Buffer(call, $"{label}[{i}]->aio_buf", block, after: false);
        }
    }

    public override void After(in SyscallCall call)
    {
        if (call.Result <= 0) return;
        string label = call.Syscall.Arguments[argument];
        ulong array = call.Arg(argument), submitted = Math.Min((ulong)call.Result, MaxBlocks);
        for (ulong i = 0; i < submitted; i++)
        {
            if (!call.TryReadUInt64(array + i * 8, out ulong block)) return;
            Buffer(call, $"{label}[{i}]->aio_buf", block, after: true);
        }
    }

    private static void Buffer(in SyscallCall call, string label, ulong block, bool after)
    {
        if (!call.TryReadUInt16(block + OpcodeOffset, out ushort opcode) || !call.TryReadUInt64(block + BufferOffset, out ulong buffer) ||
            !call.TryReadUInt64(block + LengthOffset, out ulong length))
            return;
        switch (opcode)
        {
            case CmdPread or CmdPwrite:
                call.Add(label, buffer, length, opcode == CmdPread ? ParameterAccess.Writes : ParameterAccess.Reads, after);
                break;
            case CmdPreadv or CmdPwritev:
                if (!after) IoVecs.Before(call, label, buffer, length, opcode == CmdPreadv ? ParameterAccess.Writes : ParameterAccess.Reads);
                else if (opcode == CmdPreadv) IoVecs.After(call, label, buffer, length, ulong.MaxValue);
                break;
        }
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"reads `{arguments[argument]}` (`{arguments[countArgument]}` pointers) and each struct iocb (64 bytes); " +
        "by aio_lio_opcode, PREAD/PREADV write and PWRITE/PWRITEV read the buffer or iovecs at aio_buf (written when submitted)";
}
