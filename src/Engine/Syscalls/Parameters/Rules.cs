namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// The vocabulary of the table rows: each factory is one kind of memory parameter, taking argument
/// indexes (0 = rdi). Rows read as `Row(1, "write", "fd, buf, count", Buffer(1, 2, Reads))`.
/// </summary>
internal static class Rules
{
    public const ParameterAccess Reads = ParameterAccess.Reads, Writes = ParameterAccess.Writes, ReadsThenWrites = ParameterAccess.ReadsThenWrites,
        Replaces = ParameterAccess.Replaces;

    public static SyscallDescription Row(long number, string name, string arguments, params ParameterRule[] rules) =>
        new(number, name, arguments.Length == 0 ? [] : arguments.Split(", "), rules);

    /// <summary>A buffer of <paramref name="lengthArgument"/> bytes the kernel reads (or reads and writes back).</summary>
    public static ParameterRule Buffer(int argument, int lengthArgument, ParameterAccess access, bool optional = false) =>
        new PointerRule(argument, (in SyscallCall c) => c.Arg(lengthArgument), $"{{{lengthArgument}}} bytes", access, optional);

    /// <summary>A buffer of <paramref name="lengthArgument"/> bytes the kernel fills, as far as the result says when <paramref name="sizedByResult"/>.</summary>
    public static ParameterRule OutBuffer(int argument, int lengthArgument, bool sizedByResult = true, bool optional = false) =>
        new PointerRule(argument, (in SyscallCall c) => c.Arg(lengthArgument), $"{{{lengthArgument}}} bytes", Writes, optional,
            sizedByResult ? WrittenSize.Result : WrittenSize.Whole);

    /// <summary>
    /// read/write-family buffers: the kernel never moves more than MAX_RW_COUNT (2 GiB - 4 KiB) in one call,
    /// so a larger count is cut there.
    /// </summary>
    public static ParameterRule IoBuffer(int argument, int lengthArgument, ParameterAccess access) =>
        new PointerRule(argument, (in SyscallCall c) => Math.Min(c.Arg(lengthArgument), 0x7FFF_F000), $"{{{lengthArgument}}} bytes", access,
            written: WrittenSize.Result);

    /// <summary>A structure of fixed size.</summary>
    public static ParameterRule Fixed(int argument, KernelStruct type, ParameterAccess access, bool optional = false, bool writtenOnEintr = false,
        bool ifResultPositive = false) =>
        new PointerRule(argument, (in SyscallCall _) => type.Size, $"{type.CType}, {type.Size} bytes", access, optional,
            ifResultPositive ? WrittenSize.IfResultPositive : WrittenSize.Whole, writtenOnEintr: writtenOnEintr);

    /// <summary>
    /// A buffer whose length the call's arguments or memory give in a way of its own (capget's data by the
    /// header's version, mincore's vector by the range's pages); <paramref name="sizeText"/> says how for the docs.
    /// </summary>
    public static ParameterRule Sized(int argument, SizeOf size, string sizeText, ParameterAccess access, bool optional = false,
        WrittenSize written = WrittenSize.Whole) =>
        new PointerRule(argument, size, sizeText, access, optional, written);

    /// <summary>A plain value of <paramref name="size"/> bytes (an int, an loff_t).</summary>
    public static ParameterRule Value(int argument, ulong size, ParameterAccess access, bool optional = false, string? label = null,
        bool ifResultPositive = false) =>
        new PointerRule(argument, (in SyscallCall _) => size, $"{size} bytes", access, optional,
            ifResultPositive ? WrittenSize.IfResultPositive : WrittenSize.Whole, label: label);

    /// <summary><paramref name="countArgument"/> elements of <paramref name="elementSize"/> bytes.</summary>
    public static ParameterRule Array(int argument, int countArgument, KernelStruct element, ParameterAccess access,
        bool sizedByResult = false, bool optional = false) =>
        Array(argument, countArgument, element.Size, element.CType, access, sizedByResult, optional);

    public static ParameterRule Array(int argument, int countArgument, ulong elementSize, string elementType, ParameterAccess access,
        bool sizedByResult = false, bool optional = false) =>
        new PointerRule(argument, (in SyscallCall c) => c.Arg(countArgument) * elementSize,
            $"{{{countArgument}}} x {elementType} of {elementSize} bytes", access, optional,
            sizedByResult ? WrittenSize.ResultElements : WrittenSize.Whole, elementSize);

    /// <summary>A sigset_t of the size an argument gives (sigsetsize): read, or written.</summary>
    public static ParameterRule SigSet(int argument, int sizeArgument, ParameterAccess access, bool optional = true) =>
        new PointerRule(argument, (in SyscallCall c) => c.Arg(sizeArgument), $"sigset_t, {{{sizeArgument}}} bytes", access, optional);

    /// <summary>select's fd_set: the kernel copies whole longs, ceil(nfds / 64) * 8 bytes, and writes them back.</summary>
    public static ParameterRule FdSet(int argument, int countArgument) =>
        new PointerRule(argument, (in SyscallCall c) => (Math.Min(c.Arg(countArgument), 1UL << 20) + 63) / 64 * 8,
            $"fd_set, ceil({{{countArgument}}} / 64) * 8 bytes", ReadsThenWrites, optional: true);

    public static ParameterRule CString(int argument, bool optional = false) => new CStringRule(argument, optional);

    public static ParameterRule CString(int argument, ulong max, string label) => new CStringRule(argument, false, max, label);

    public static ParameterRule StringArray(int argument) => new StringArrayRule(argument);

    public static ParameterRule IoVecArray(int argument, int countArgument, ParameterAccess access) => new IoVecRule(argument, countArgument, access);

    /// <summary>A socket address the kernel reads, <paramref name="lengthArgument"/> bytes (none when 0).</summary>
    public static ParameterRule SockAddr(int argument, int lengthArgument, bool optional = false) => new SockAddrRule(argument, lengthArgument, optional);

    /// <summary>A structure of which the kernel reads only the named fields, and may write all of back.</summary>
    public static ParameterRule Fields(int argument, StructField[] fields, bool optional = false, KernelStruct? writtenBack = null) =>
        new FieldsRule(argument, fields, optional, writtenBack);

    /// <summary>A socket address the kernel writes, its capacity in the socklen_t that <paramref name="lengthPointerArgument"/> points to.</summary>
    public static ParameterRule SockAddrOut(int argument, int lengthPointerArgument) => new LengthPointerRule(argument, lengthPointerArgument, bufferOptional: true);

    /// <summary>As <see cref="SockAddrOut"/>, for a buffer that must be given (getsockopt's optval).</summary>
    public static ParameterRule LengthPointer(int argument, int lengthPointerArgument) => new LengthPointerRule(argument, lengthPointerArgument, bufferOptional: false);

    public static ParameterRule MsgHdr(int argument, ParameterAccess access) => new MsgHdrRule(argument, access);

    public static ParameterRule MmsgHdrs(int argument, int countArgument, ParameterAccess access) => new MmsgHdrRule(argument, countArgument, access);

    public static ParameterRule Poll(int argument, int countArgument) => new PollRule(argument, countArgument);

    public static ParameterRule SigAction(int argument, int sizeArgument) => new SigActionRule(argument, sizeArgument);

    public static ParameterRule SigmaskPair(int argument) => new SigmaskPairRule(argument);

    /// <summary>A System V message (a long mtype, then <paramref name="sizeArgument"/> bytes of text): msgsnd reads it, msgrcv writes it.</summary>
    public static ParameterRule Message(int argument, int sizeArgument, ParameterAccess access) => new MessageRule(argument, sizeArgument, access);

    /// <summary>io_submit's array of iocb pointers, each control block and the buffer it names.</summary>
    public static ParameterRule IoControlBlocks(int argument, int countArgument) => new IoControlBlockRule(argument, countArgument);

    public static ParameterRule Ioctl(int requestArgument, int argument) => new IoctlRule(requestArgument, argument);

    /// <summary>Rules that apply when argument <paramref name="argument"/> is one of <paramref name="values"/> (named by <paramref name="condition"/>).</summary>
    public static ParameterRule When(int argument, ulong[] values, string condition, params ParameterRule[] rules) =>
        new WhenRule(argument, v => values.Contains(v), condition, rules);

    public static ParameterRule When(int argument, Func<ulong, bool> applies, string condition, params ParameterRule[] rules) =>
        new WhenRule(argument, applies, condition, rules);
}
