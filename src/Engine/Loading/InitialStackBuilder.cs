using System.Buffers.Binary;
using System.Text;

namespace Checker.Engine.Loading;

/// <summary>
/// Builds a new process's initial stack as the kernel does (fs/binfmt_elf.c create_elf_tables,
/// fs/exec.c copy_strings; SysV x86-64 ABI 3.4.1). From the top down: an 8-byte zero end marker,
/// the strings execfn, envp[n-1]..envp[0], argv[n-1]..argv[0], padding to 16, the platform
/// string and the 16 AT_RANDOM bytes; then, 16-byte aligned at rsp and ascending: argc, argv[],
/// NULL, envp[], NULL and the aux vector (the caller's entries, AT_RANDOM, AT_PLATFORM,
/// AT_EXECFN, AT_NULL). Pure: no memory is touched, so it is tested by decoding the image.
/// </summary>
public static class InitialStackBuilder
{
    private const int WordSize = 8;

    /// <summary>
    /// Lays out the stack that ends at <paramref name="stackTop"/>. Strings are written as
    /// NUL-terminated UTF-8; <paramref name="auxv"/> must not contain the entries the builder
    /// adds itself (AT_NULL, AT_RANDOM, AT_PLATFORM, AT_EXECFN).
    /// </summary>
    public static InitialStack Build(ulong stackTop, IReadOnlyList<string> argv, IReadOnlyList<string> envp,
        IReadOnlyList<AuxEntry> auxv, ReadOnlySpan<byte> random16, string platform, string execFn)
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(envp);
        ArgumentNullException.ThrowIfNull(auxv);
        if (random16.Length != 16) throw new ArgumentException("AT_RANDOM needs exactly 16 bytes", nameof(random16));
        foreach (AuxEntry entry in auxv)
        {
            if (entry.Type is AuxType.AT_NULL or AuxType.AT_RANDOM or AuxType.AT_PLATFORM or AuxType.AT_EXECFN)
                throw new ArgumentException($"aux entry {entry.Type} is added by the builder", nameof(auxv));
        }

        byte[] execFnBytes = CString(execFn, nameof(execFn));
        byte[][] envBytes = envp.Select(s => CString(s, nameof(envp))).ToArray();
        byte[][] argBytes = argv.Select(s => CString(s, nameof(argv))).ToArray();
        byte[] platformBytes = CString(platform, nameof(platform));

        // Aux vector: the caller's entries, then the three that point into this image, then AT_NULL.
        int auxCount = auxv.Count + 4;
        int words = 1 + argv.Count + 1 + envp.Count + 1 + 2 * auxCount;

        // Worst case: marker, strings, two alignments of up to 15 bytes, random bytes, tables.
        ulong needed = WordSize + (ulong)execFnBytes.Length + Sum(envBytes) + Sum(argBytes) + 15
                       + (ulong)platformBytes.Length + 16 + (ulong)words * WordSize + 15;
        if (needed > int.MaxValue) throw new ArgumentException("the arguments and environment are too large for one stack image");
        if (stackTop < needed) throw new ArgumentOutOfRangeException(nameof(stackTop), "the stack top is too low for the initial stack");

        var placed = new List<(ulong Address, byte[] Bytes)>();
        ulong cursor = stackTop - WordSize;
        ulong Place(byte[] bytes)
        {
            cursor -= (ulong)bytes.Length;
            placed.Add((cursor, bytes));
            return cursor;
        }

        // fs/exec.c copies execfn, then envp, then argv, each list from its last string down, so
        // envp[0] and argv[0] end up lowest.
        ulong execFnAt = Place(execFnBytes);
        var envAt = new ulong[envBytes.Length];
        for (int i = envBytes.Length - 1; i >= 0; i--) envAt[i] = Place(envBytes[i]);
        var argAt = new ulong[argBytes.Length];
        for (int i = argBytes.Length - 1; i >= 0; i--) argAt[i] = Place(argBytes[i]);

        // arch_align_stack (without its random offset), then platform and random bytes below it.
        cursor &= ~0xfUL;
        ulong platformAt = Place(platformBytes);
        ulong randomAt = Place(random16.ToArray());

        var aux = new List<AuxEntry>(auxCount);
        aux.AddRange(auxv);
        aux.Add(new AuxEntry(AuxType.AT_RANDOM, randomAt));
        aux.Add(new AuxEntry(AuxType.AT_PLATFORM, platformAt));
        aux.Add(new AuxEntry(AuxType.AT_EXECFN, execFnAt));
        aux.Add(new AuxEntry(AuxType.AT_NULL, 0));

        // STACK_ROUND: rsp is 16-byte aligned at process entry (ABI 3.4.1), argc at rsp.
        ulong sp = (cursor - (ulong)words * WordSize) & ~0xfUL;
        var image = new byte[stackTop - sp];
        foreach ((ulong address, byte[] bytes) in placed) bytes.CopyTo(image, (int)(address - sp));

        int offset = 0;
        void Word(ulong value)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(offset), value);
            offset += WordSize;
        }

        Word((ulong)argv.Count);
        foreach (ulong a in argAt) Word(a);
        Word(0);
        foreach (ulong e in envAt) Word(e);
        Word(0);
        foreach (AuxEntry e in aux)
        {
            Word(e.Type);
            Word(e.Value);
        }
        return new InitialStack(image, sp, sp);
    }

    private static byte[] CString(string s, string parameter)
    {
        ArgumentNullException.ThrowIfNull(s, parameter);
        if (s.Contains('\0')) throw new ArgumentException("strings passed to a new process cannot contain NUL", parameter);
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    private static ulong Sum(byte[][] strings) => strings.Aggregate(0UL, (total, s) => total + (ulong)s.Length);
}
