using System.Text;

namespace Checker.Engine.Loading;

/// <summary>The bytes to place just below <c>stackTop</c> and the guest's initial rsp.</summary>
public sealed record InitialStack(byte[] Image, ulong ImageBase, ulong StackPointer);

/// <summary>
/// Builds a new process's initial stack as the kernel does (binfmt_elf create_elf_tables; SysV
/// x86-64 ABI 3.4.1). From the top: an 8-byte end marker, the strings (execfn, envp, argv,
/// platform), 16 random bytes; then, 16-byte aligned at rsp: argc, argv[], NULL, envp[], NULL and
/// the aux vector (the caller's entries, AT_RANDOM, AT_PLATFORM, AT_EXECFN, AT_NULL). Pure: no memory
/// is touched, so it is tested by decoding the image.
/// </summary>
public static class InitialStackBuilder
{
    public static InitialStack Build(ulong stackTop, IReadOnlyList<string> argv, IReadOnlyList<string> envp,
        IReadOnlyList<AuxEntry> auxv, ReadOnlySpan<byte> random16, string platform, string execFn)
    {
        ulong cursor = stackTop - 8;
        // Strings are laid down from the top; each call returns the address of the string placed.
        var placed = new List<(ulong Address, byte[] Bytes)>();
        ulong Place(byte[] bytes)
        {
            cursor -= (ulong)bytes.Length;
            placed.Add((cursor, bytes));
            return cursor;
        }
        static byte[] Z(string s) => Encoding.UTF8.GetBytes(s + "\0");

        ulong execFnAt = Place(Z(execFn));
        var envAt = new ulong[envp.Count];
        for (int i = envp.Count - 1; i >= 0; i--) envAt[i] = Place(Z(envp[i]));
        var argAt = new ulong[argv.Count];
        for (int i = argv.Count - 1; i >= 0; i--) argAt[i] = Place(Z(argv[i]));
        ulong platformAt = Place(Z(platform));
        cursor &= ~0xfUL;
        ulong randomAt = Place(random16.ToArray());

        var aux = new List<AuxEntry>(auxv)
        {
            new(AuxType.AT_RANDOM, randomAt),
            new(AuxType.AT_PLATFORM, platformAt),
            new(AuxType.AT_EXECFN, execFnAt),
            new(AuxType.AT_NULL, 0),
        };
        int words = 1 + argv.Count + 1 + envp.Count + 1 + 2 * aux.Count;
        ulong sp = (cursor - (ulong)words * 8) & ~0xfUL;

        var image = new byte[stackTop - sp];
        void Word(ulong address, ulong value) => BitConverter.TryWriteBytes(image.AsSpan((int)(address - sp)), value);
        foreach ((ulong address, byte[] bytes) in placed) bytes.CopyTo(image, (int)(address - sp));
        ulong w = sp;
        Word(w, (ulong)argv.Count); w += 8;
        foreach (ulong a in argAt) { Word(w, a); w += 8; }
        Word(w, 0); w += 8;
        foreach (ulong e in envAt) { Word(w, e); w += 8; }
        Word(w, 0); w += 8;
        foreach (AuxEntry e in aux) { Word(w, e.Type); Word(w + 8, e.Value); w += 16; }
        return new InitialStack(image, sp, sp);
    }
}
