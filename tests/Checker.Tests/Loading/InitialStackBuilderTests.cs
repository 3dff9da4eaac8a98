using System.Buffers.Binary;
using System.Text;
using Checker.Engine.Loading;
using Xunit;

namespace Checker.Tests.Loading;

/// <summary>Builds initial stacks and decodes them back the way a guest's _start and ld.so read them.</summary>
public class InitialStackBuilderTests
{
    private const ulong StackTop = 0x7ffd_1234_0000;

    private static readonly byte[] _random = Enumerable.Range(0xa0, 16).Select(i => (byte)i).ToArray();

    private static readonly AuxEntry[] _callerAux =
    [
        new(AuxType.AT_SYSINFO_EHDR, 0x7fff_f7fc_1000),
        new(AuxType.AT_PAGESZ, 4096),
        new(AuxType.AT_PHDR, 0x5555_5555_4040),
        new(AuxType.AT_PHENT, 56),
        new(AuxType.AT_PHNUM, 13),
        new(AuxType.AT_ENTRY, 0x5555_5555_a1d0),
    ];

    private static InitialStack Build(string[] argv, string[] envp, string execFn = "/usr/bin/prog") =>
        InitialStackBuilder.Build(StackTop, argv, envp, _callerAux, _random, "x86_64", execFn);

    [Fact]
    public void DecodesBackToArgvEnvpAndAuxv()
    {
        string[] argv = ["/usr/bin/prog", "-l", "ünïcödé", ""];
        string[] envp = ["HOME=/root", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"];

        InitialStack stack = Build(argv, envp, "./prog");
        var decoded = new Decoder(stack);

        Assert.Equal(StackTop, stack.ImageBase + (ulong)stack.Image.Length);
        Assert.Equal(stack.ImageBase, stack.StackPointer);
        Assert.Equal(0UL, stack.StackPointer % 16);
        Assert.Equal(0UL, decoded.Word(StackTop - 8)); // End marker.

        ulong p = stack.StackPointer;
        Assert.Equal((ulong)argv.Length, decoded.Word(p));
        p += 8;
        foreach (string arg in argv)
        {
            Assert.Equal(arg, decoded.String(decoded.Word(p)));
            p += 8;
        }
        Assert.Equal(0UL, decoded.Word(p));
        p += 8;
        foreach (string env in envp)
        {
            Assert.Equal(env, decoded.String(decoded.Word(p)));
            p += 8;
        }
        Assert.Equal(0UL, decoded.Word(p));
        p += 8;

        var aux = new List<AuxEntry>();
        for (; ; p += 16)
        {
            var entry = new AuxEntry(decoded.Word(p), decoded.Word(p + 8));
            aux.Add(entry);
            if (entry.Type == AuxType.AT_NULL) break;
        }
        Assert.Equal(_callerAux, aux.Take(_callerAux.Length));
        Assert.Equal(
            [AuxType.AT_RANDOM, AuxType.AT_PLATFORM, AuxType.AT_EXECFN, AuxType.AT_NULL],
            aux.Skip(_callerAux.Length).Select(e => e.Type));
        Assert.Equal(0UL, aux[^1].Value);

        ulong randomAt = aux.Single(e => e.Type == AuxType.AT_RANDOM).Value;
        Assert.Equal(_random, decoded.Bytes(randomAt, 16));
        Assert.Equal("x86_64", decoded.String(aux.Single(e => e.Type == AuxType.AT_PLATFORM).Value));
        Assert.Equal("./prog", decoded.String(aux.Single(e => e.Type == AuxType.AT_EXECFN).Value));
        Assert.True(p + 16 <= randomAt, "the tables must lie below the random bytes and strings");
    }

    [Fact]
    public void StringsAreLaidOutLikeTheKernel()
    {
        string[] argv = ["prog", "a", "bb"];
        string[] envp = ["X=1", "YY=22"];

        InitialStack stack = Build(argv, envp, "/usr/bin/prog");
        var decoded = new Decoder(stack);
        ulong[] argAt = decoded.Words(stack.StackPointer + 8, argv.Length);
        ulong[] envAt = decoded.Words(stack.StackPointer + 8 * (ulong)(argv.Length + 2), envp.Length);
        AuxEntry[] aux = decoded.Aux();
        ulong execFnAt = aux.Single(e => e.Type == AuxType.AT_EXECFN).Value;
        ulong platformAt = aux.Single(e => e.Type == AuxType.AT_PLATFORM).Value;
        ulong randomAt = aux.Single(e => e.Type == AuxType.AT_RANDOM).Value;

        // execfn ends just under the 8-byte end marker; envp strings below it, argv strings below
        // those, each list contiguous and ascending; platform and random bytes lowest.
        Assert.Equal(StackTop - 8 - (ulong)"/usr/bin/prog".Length - 1, execFnAt);
        Assert.Equal(execFnAt, envAt[^1] + (ulong)envp[^1].Length + 1);
        for (int i = 1; i < envAt.Length; i++) Assert.Equal(envAt[i - 1] + (ulong)envp[i - 1].Length + 1, envAt[i]);
        Assert.Equal(envAt[0], argAt[^1] + (ulong)argv[^1].Length + 1);
        for (int i = 1; i < argAt.Length; i++) Assert.Equal(argAt[i - 1] + (ulong)argv[i - 1].Length + 1, argAt[i]);
        Assert.True(platformAt + 7 <= argAt[0]);
        Assert.Equal(platformAt - 16, randomAt);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 7)]
    public void PointersStayInsideTheImageAndRspIsAligned(int argCount, int envCount)
    {
        string[] argv = Enumerable.Range(0, argCount).Select(i => new string('a', i * 3 + 1)).ToArray();
        string[] envp = Enumerable.Range(0, envCount).Select(i => $"V{i}={new string('x', i)}").ToArray();

        InitialStack stack = Build(argv, envp);
        var decoded = new Decoder(stack);

        Assert.Equal(0UL, stack.StackPointer % 16);
        Assert.Equal(StackTop, stack.ImageBase + (ulong)stack.Image.Length);
        Assert.Equal((ulong)argCount, decoded.Word(stack.StackPointer));
        var pointers = decoded.Words(stack.StackPointer + 8, argCount)
            .Concat(decoded.Words(stack.StackPointer + 8 * (ulong)(argCount + 2), envCount))
            .Concat(decoded.Aux().Where(e => e.Type is AuxType.AT_RANDOM or AuxType.AT_PLATFORM or AuxType.AT_EXECFN).Select(e => e.Value));
        foreach (ulong pointer in pointers) Assert.InRange(pointer, stack.ImageBase, StackTop - 1);
        Assert.Equal(argv, decoded.Words(stack.StackPointer + 8, argCount).Select(decoded.String));
    }

    [Fact]
    public void RejectsBadInputs()
    {
        Assert.Throws<ArgumentException>(() =>
            InitialStackBuilder.Build(StackTop, ["a"], [], [], new byte[15], "x86_64", "a"));
        Assert.Throws<ArgumentException>(() =>
            InitialStackBuilder.Build(StackTop, ["a\0b"], [], [], _random, "x86_64", "a"));
        Assert.Throws<ArgumentException>(() =>
            InitialStackBuilder.Build(StackTop, ["a"], [], [new AuxEntry(AuxType.AT_NULL, 0)], _random, "x86_64", "a"));
        Assert.Throws<ArgumentException>(() =>
            InitialStackBuilder.Build(StackTop, ["a"], [], [new AuxEntry(AuxType.AT_RANDOM, 1)], _random, "x86_64", "a"));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            InitialStackBuilder.Build(64, ["a"], [], [], _random, "x86_64", "a"));
    }

    /// <summary>Reads the image through guest addresses.</summary>
    private sealed class Decoder(InitialStack stack)
    {
        private int Index(ulong address, int length)
        {
            Assert.InRange(address, stack.ImageBase, stack.ImageBase + (ulong)stack.Image.Length - (ulong)length);
            return (int)(address - stack.ImageBase);
        }

        public ulong Word(ulong address) => BinaryPrimitives.ReadUInt64LittleEndian(stack.Image.AsSpan(Index(address, 8)));

        public ulong[] Words(ulong address, int count) =>
            Enumerable.Range(0, count).Select(i => Word(address + 8 * (ulong)i)).ToArray();

        public byte[] Bytes(ulong address, int count) => stack.Image.AsSpan(Index(address, count), count).ToArray();

        public string String(ulong address)
        {
            ReadOnlySpan<byte> rest = stack.Image.AsSpan(Index(address, 1));
            int nul = rest.IndexOf((byte)0);
            Assert.True(nul >= 0, "string without NUL");
            return Encoding.UTF8.GetString(rest[..nul]);
        }

        /// <summary>The aux vector, found by walking past argv and envp as ld.so does.</summary>
        public AuxEntry[] Aux()
        {
            ulong p = stack.StackPointer + 8 + 8 * (Word(stack.StackPointer) + 1);
            while (Word(p) != 0) p += 8;
            p += 8;
            var aux = new List<AuxEntry>();
            for (; ; p += 16)
            {
                aux.Add(new AuxEntry(Word(p), Word(p + 8)));
                if (aux[^1].Type == AuxType.AT_NULL) return aux.ToArray();
            }
        }
    }
}
