namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// Walks a struct iovec array (16 bytes each: base, length) as the kernel's import_iovec does,
/// for readv/writev, preadv/pwritev and the msg_iov of sendmsg/recvmsg.
/// </summary>
internal static class IoVecs
{
    /// <summary>UIO_MAXIOV: with more elements the kernel fails with EINVAL before reading any.</summary>
    public const ulong MaxCount = 1024;

    public const ulong ElementSize = 16;

    /// <summary>Arrays up to this many elements are read on the stack; longer ones (rare) on the heap.</summary>
    private const ulong StackCount = 64;

    /// <summary>
    /// The array itself (read), then each element's buffer as "label[i]" with
    /// <paramref name="access"/>. Elements are taken only from the readable start of the array.
    /// </summary>
    public static void Before(in SyscallCall call, string label, ulong vector, ulong count, ParameterAccess access)
    {
        if (count == 0 || count > MaxCount) return;
        call.Add(label, vector, count * ElementSize, KernelAccess.Reads);
        Span<(ulong Base, ulong Length)> elements = count <= StackCount ? stackalloc (ulong, ulong)[(int)count] : new (ulong, ulong)[count];
        int readable = Read(call, vector, elements);
        for (int i = 0; i < readable; i++)
            call.Add($"{label}[{i}]", elements[i].Base, elements[i].Length, access, after: false);
    }

    /// <summary>The first <paramref name="bytes"/> bytes of the elements' buffers, in order: what a read filled.</summary>
    public static void After(in SyscallCall call, string label, ulong vector, ulong count, ulong bytes)
    {
        if (count == 0 || count > MaxCount) return;
        Span<(ulong Base, ulong Length)> elements = count <= StackCount ? stackalloc (ulong, ulong)[(int)count] : new (ulong, ulong)[count];
        int readable = Read(call, vector, elements);
        for (int i = 0; i < readable && bytes > 0; i++)
        {
            ulong length = Math.Min(elements[i].Length, bytes);
            call.Add($"{label}[{i}]", elements[i].Base, length, KernelAccess.Writes);
            bytes -= length;
        }
    }

    /// <summary>How many leading elements could be read into <paramref name="elements"/>.</summary>
    private static int Read(in SyscallCall call, ulong vector, Span<(ulong Base, ulong Length)> elements)
    {
        Span<byte> raw = (ulong)elements.Length <= StackCount ? stackalloc byte[elements.Length * (int)ElementSize] : new byte[elements.Length * (int)ElementSize];
        if (call.Memory.TryRead(vector, raw))
        {
            for (int i = 0; i < elements.Length; i++)
                elements[i] = (BitConverter.ToUInt64(raw[(i * 16)..]), BitConverter.ToUInt64(raw[(i * 16 + 8)..]));
            return elements.Length;
        }
        // Part of the array is unreadable: take elements one by one up to the first that is not.
        for (int i = 0; i < elements.Length; i++)
        {
            if (!call.Memory.TryRead(vector + (ulong)i * ElementSize, raw[..16])) return i;
            elements[i] = (BitConverter.ToUInt64(raw), BitConverter.ToUInt64(raw[8..]));
        }
        return elements.Length;
    }
}
