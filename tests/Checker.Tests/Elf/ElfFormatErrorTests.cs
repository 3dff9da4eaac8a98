using Checker.Engine.Loading;
using Checker.Symbols.Elf;
using Checker.Symbols.Native;
using Xunit;

namespace Checker.Tests.Elf;

/// <summary>Files that are not runnable x86-64 ELF images fail with one clear line.</summary>
public class ElfFormatErrorTests(CompiledBinaries binaries) : IClassFixture<CompiledBinaries>
{
    private static ElfFormatException ParseFails(byte[] bytes)
    {
        var e = Assert.Throws<ElfFormatException>(() => ElfImage.Parse("input", bytes));
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    private static byte[] Ls(Action<byte[]>? patch = null, int? length = null)
    {
        byte[] bytes = File.ReadAllBytes("/bin/ls");
        if (length is int n) bytes = bytes[..n];
        patch?.Invoke(bytes);
        return bytes;
    }

    [Fact]
    public void TextFile_IsNotAnElfExecutable()
    {
        Assert.Contains("not an ELF executable", ParseFails("this is a text file, not a program\n"u8.ToArray()).Message);
    }

    [Fact]
    public void Script_IsNotAnElfExecutable()
    {
        Assert.Contains("not an ELF executable", ParseFails("#!/bin/sh\necho hi\n"u8.ToArray()).Message);
    }

    [Fact]
    public void EmptyFile_IsNotAnElfExecutable()
    {
        Assert.Contains("not an ELF executable", ParseFails([]).Message);
    }

    [Fact]
    public void OpenOnAnEmptyFile_Throws()
    {
        string path = binaries.PathFor("empty");
        File.WriteAllBytes(path, []);
        Assert.Contains("not an ELF executable", Assert.Throws<ElfFormatException>(() => ElfImage.Open(path)).Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(40)]
    [InlineData(63)]
    public void HeaderCutShort_IsTruncated(int length)
    {
        Assert.StartsWith("truncated ELF file", ParseFails(Ls(length: length)).Message);
    }

    [Fact]
    public void ProgramHeadersCutShort_IsTruncated()
    {
        string message = ParseFails(Ls(length: 100)).Message;
        Assert.StartsWith("truncated ELF file", message);
        Assert.Contains("program headers", message);
    }

    [Fact]
    public void SegmentsCutShort_ParseButAreNotLoadable()
    {
        // Parsing needs only the headers; the loader refuses segment pages past the end of the file.
        ElfImage image = ElfImage.Parse("cut", Ls(length: 0x5000));
        var e = Assert.Throws<ElfFormatException>(() => BinfmtRules.CheckLoadable(image));
        Assert.StartsWith("truncated ELF file (loadable segment", e.Message);
    }

    [Fact]
    public void SectionHeadersCutShort_LeaveNoSections()
    {
        // The kernel never reads sections: a cut section table only means no sections (and symbols).
        int length = File.ReadAllBytes("/bin/ls").Length - 100;
        ElfImage image = ElfImage.Parse("cut", Ls(length: length));
        Assert.Empty(image.Sections);
        Assert.Empty(image.ReadSymbols());
        BinfmtRules.CheckLoadable(image);
    }

    [Fact]
    public void Elf32_IsNotSupported()
    {
        Assert.Equal("32-bit ELF is not supported; memcheck runs x86-64 programs",
            ParseFails(Ls(b => { b[4] = 1; b[18] = 3; b[19] = 0; })).Message); // ELFCLASS32, EM_386
    }

    [Fact]
    public void IdentityBytes_AreNotChecked()
    {
        // binfmt_elf looks at e_machine, not EI_CLASS/EI_DATA/EI_VERSION: such a file runs natively.
        ElfImage image = ElfImage.Parse("ident", Ls(b => { b[4] = 1; b[5] = 2; b[6] = 9; }));
        Assert.Equal(ElfType.Shared, image.Type);
    }

    [Fact]
    public void BigEndian_IsNotSupported()
    {
        Assert.Contains("big-endian", ParseFails(Ls(b => { b[5] = 2; b[18] = 0; b[19] = 62; })).Message);
    }

    [Fact]
    public void OtherMachine_IsNotX86_64()
    {
        Assert.Equal("ELF for machine 183 is not x86-64", ParseFails(Ls(b => { b[18] = 183; b[19] = 0; })).Message);
    }

    [Fact]
    public void RelocatableObject_IsNotAnExecutable()
    {
        var e = Assert.Throws<ElfFormatException>(() => ElfImage.Open(binaries.RelocatableObject));
        Assert.Contains("relocatable object", e.Message);
        Assert.Contains("not an executable", e.Message);
    }

    [Fact]
    public void CoreType_IsNotAnExecutable()
    {
        Assert.Contains("core dump", ParseFails(Ls(b => { b[16] = 4; b[17] = 0; })).Message);
    }

    [Fact]
    public void WrongProgramHeaderEntrySize_IsRejected()
    {
        Assert.Contains("program header entry size 32", ParseFails(Ls(b => { b[54] = 32; b[55] = 0; })).Message);
    }

    [Fact]
    public void LoadSegmentWithFileSizeAboveMemorySize_IsNotLoadable()
    {
        byte[] bytes = Ls();
        ElfImage ls = ElfImage.Parse("/bin/ls", bytes);
        int index = ls.ProgramHeaders.ToList().FindIndex(p => p.Type == ElfSegmentType.Load);
        BitConverter.TryWriteBytes(bytes.AsSpan((int)ls.ProgramHeaderOffset + index * 56 + 40), 1UL); // p_memsz
        var e = Assert.Throws<ElfFormatException>(() => BinfmtRules.CheckLoadable(ElfImage.Parse("patched", bytes)));
        Assert.Contains("bad loadable segment", e.Message);
    }

    [Fact]
    public void DevicesFifosAndDirectories_AreNotReadAtAll()
    {
        // /dev/zero never ends and a FIFO blocks an open for reading: only regular files are read.
        string fifo = binaries.PathFor("fifo");
        Assert.Equal(0, Checker.Tests.EndToEnd.ProcessRunner.Run("mkfifo", [fifo]).ExitCode);
        foreach ((string path, string kind) in new[] { ("/dev/zero", "a character device"), (fifo, "a FIFO"), ("/tmp", "a directory") })
        {
            var e = Assert.Throws<NotARegularFileException>(() => ElfImage.Open(path));
            Assert.Equal($"not a regular file ({kind})", e.Message);
        }
    }

    [Fact]
    public void MissingFile_IsAnIoError()
    {
        Assert.Throws<FileNotFoundException>(() => ElfImage.Open(binaries.PathFor("no-such-file")));
    }

    /// <summary>Every prefix of a real header area, and random damage past it, fails cleanly or parses.</summary>
    [Fact]
    public void DamagedFiles_FailOnlyWithElfFormatException()
    {
        byte[] original = File.ReadAllBytes(binaries.Static);
        for (int length = 0; length <= 4096; length++) ParsesOrFailsCleanly(original[..length]);

        var random = new Random(12345);
        for (int round = 0; round < 2000; round++)
        {
            byte[] bytes = (byte[])original.Clone();
            // Keep the identity bytes (so parsing goes deep) and damage the header tables.
            for (int flips = random.Next(1, 8); flips > 0; flips--)
                bytes[random.Next(16, 64 + 56 * 10)] = (byte)random.Next(256);
            if (round % 4 == 0)
                bytes[random.Next((int)BitConverter.ToUInt64(original, 40), bytes.Length)] = (byte)random.Next(256);
            ParsesOrFailsCleanly(bytes);
        }
    }

    private static void ParsesOrFailsCleanly(byte[] bytes)
    {
        try
        {
            ElfImage image = ElfImage.Parse("damaged", bytes);
            _ = image.ReadSymbols();
            _ = image.LowestLoadAddress;
            _ = image.HighestLoadAddress;
            foreach (ElfSection section in image.Sections) _ = image.GetSectionData(section).Length;
        }
        catch (ElfFormatException e)
        {
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
