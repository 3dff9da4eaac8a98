using System.ComponentModel;
using System.Diagnostics;
using Checker.Tests.EndToEnd;
using Checker.Tests.Heap;
using Xunit;

namespace Checker.Tests.Loading;

/// <summary>
/// memcheck loads programs as the kernel's binfmt_elf does: large segments, what it accepts
/// (NUL-padded PT_INTERP, no or damaged section headers) and refuses (an interpreter that is not a
/// regular file), the contents of segment tails, AT_PHDR. Each case is checked against the same
/// file run natively.
/// </summary>
public class KernelLoadingTests
{
    private static string Patched(string caseName, string fileName, Action<byte[]> patch)
    {
        byte[] bytes = File.ReadAllBytes(CaseBinaries.Get(caseName));
        patch(bytes);
        return ElfPatcher.WriteExecutable(Path.Combine(Scratch.NewDirectory("patched"), fileName), bytes);
    }

    [Theory]
    [InlineData("large_bss.nopie1g", "1073741824 bytes of bss, sum 6\n")]
    [InlineData("large_bss.pie2g", "2147483648 bytes of bss, sum 6\n")]
    public void LargeBss_RunsAsNatively(string caseName, string expected)
    {
        string program = CaseBinaries.Get(caseName);
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Equal(expected, native.StdoutText);
        Assert.Equal(6, native.ExitCode);

        // Under full checking too: the bss is addressable, and nothing is reported.
        MemcheckReport report = MemcheckJson.RunMemcheck(program);
        Assert.Equal(expected, report.Run.StdoutText);
        Assert.True(report.Run.ExitCode == 6, report.Context);
        Assert.True(report.Errors.Length == 0, report.Context);
    }

    [Fact]
    public void NonPieWithSegmentsOnBothSidesOfTheCodeCache_RunsAsNatively()
    {
        // The kernel maps an ET_EXEC's segments one by one: the hole between them (here the place of
        // memcheck's code cache) is not part of the program.
        NativeComparison.AssertSameBehaviour(CaseBinaries.Get("segment_tail.split"), []);
    }

    [Fact]
    public void NonPieCoveringTheCodeCache_IsRefusedWithOneLine()
    {
        // 2 GB of bss from 0x400000 runs natively, but covers the code cache, which must stay below 2 GB.
        string program = CaseBinaries.Get("large_bss.nopie2g");
        string line = AssertOneLineError(MemcheckLauncher.RunToolNone(program, []), 125);
        Assert.StartsWith($"memcheck: cannot load {program}: cannot place it at its link address 0x400000-", line);
        Assert.Contains("code cache", line);
    }

    [Fact]
    public void InterpreterPaddedWithNuls_RunsAsNatively()
    {
        string program = Patched("segment_tail.interp", "nul-padded-interp", b => ElfPatcher.SetInterpreter(b, "/lib64/ld-linux-x86-64.so.2"));
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Equal(0, native.ExitCode);
    }

    [Theory]
    [InlineData("segment_tail")]
    [InlineData("segment_tail.static")]
    public void WithoutSectionTable_RunsAsNatively(string caseName)
    {
        string program = Patched(caseName, "no-sections", ElfPatcher.RemoveSectionTable);
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Equal(0, native.ExitCode);
    }

    [Fact]
    public void SectionTableCutOff_RunsAsNatively()
    {
        // Truncated right before the section headers (and .symtab/.strtab with them).
        byte[] bytes = File.ReadAllBytes(CaseBinaries.Get("segment_tail"));
        long sectionTable = BitConverter.ToInt64(bytes, 40);
        string program = ElfPatcher.WriteExecutable(Path.Combine(Scratch.NewDirectory("patched"), "cut-sections"), bytes[..(int)sectionTable]);
        NativeComparison.AssertSameBehaviour(program, []);
    }

    [Fact]
    public void ReadOnlySegmentTail_KeepsTheFileBytes()
    {
        // A read-only segment with a few bytes of bss: the kernel's zeroing fails on its page, so the
        // rest of the page keeps the file's bytes (which here are not all zero).
        string program = Patched("segment_tail", "ro-tail", b => ElfPatcher.ExtendReadOnlySegment(b, 0x100));
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Matches(@"tail bytes, [1-9]\d* non-zero", native.StdoutText);
    }

    [Fact]
    public void ReadOnlySegmentBssPages_AreReadWrite()
    {
        // Bss pages past a read-only segment's file pages are plain anonymous data pages natively.
        string program = Patched("segment_tail.gap", "ro-bss", b => ElfPatcher.ExtendReadOnlySegment(b, 0x5000));
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Contains("last page rw-p", native.StdoutText);
    }

    [Fact]
    public void AtPhdr_ComesFromTheLoadSegmentHoldingThePhdrs()
    {
        // A PT_PHDR that disagrees with e_phoff: the kernel takes AT_PHDR from the PT_LOAD that holds
        // e_phoff. A static program only reads the headers through AT_PHDR, so it runs either way.
        string program = Patched("segment_tail.static", "misleading-pt-phdr", b => ElfPatcher.AddMisleadingPhdrSegment(b, 56));
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Contains("AT_PHDR at +0x400040,", native.StdoutText);
    }

    [Theory]
    [InlineData("/dev/zero", "not a regular file (a character device)")]
    [InlineData("fifo", "not a regular file (a FIFO)")]
    [InlineData(".", "not a regular file (a directory)")]
    public void InterpreterThatIsNotARegularFile_IsRefusedAsByTheKernel(string interpreter, string reason)
    {
        string directory = Scratch.NewDirectory("interp");
        if (interpreter == "fifo")
        {
            interpreter = Path.Combine(directory, "fifo");
            Assert.Equal(0, ProcessRunner.Run("mkfifo", [interpreter]).ExitCode);
        }
        string program = Patched("segment_tail.interp", "odd-interp", b => ElfPatcher.SetInterpreter(b, interpreter));

        Assert.Equal(13, NativeExecErrno(program)); // EACCES, as open_exec refuses it
        string line = AssertOneLineError(MemcheckLauncher.RunToolNone(program, []), 126);
        Assert.Equal($"memcheck: {program}: its interpreter {interpreter}: {reason}", line);
    }

    [Fact]
    public void MissingInterpreter_IsNotFound()
    {
        string missing = Path.Combine(Scratch.NewDirectory("interp"), "no-such-ld.so");
        string program = Patched("segment_tail.interp", "missing-interp", b => ElfPatcher.SetInterpreter(b, missing));

        Assert.Equal(2, NativeExecErrno(program)); // ENOENT: the shell's 127
        string line = AssertOneLineError(MemcheckLauncher.RunToolNone(program, []), 127);
        Assert.Equal($"memcheck: {program}: its interpreter {missing}: no such file or directory", line);
    }

    [Fact]
    public void ControlCharactersInNames_AreEscaped()
    {
        string directory = Scratch.NewDirectory("names");
        string interpreter = Path.Combine(directory, "ld\u001b[31m\nx");
        string program = Patched("segment_tail.interp", "bad\u001b]0;title\u0007name", b => ElfPatcher.SetInterpreter(b, interpreter));

        string line = AssertOneLineError(MemcheckLauncher.RunToolNone(program, []), 127);
        string shownProgram = program.Replace("\u001b", "\\x1b").Replace("\u0007", "\\x07");
        Assert.Equal($"memcheck: {shownProgram}: its interpreter {directory}/ld\\x1b[31m\\nx: no such file or directory", line);
    }

    [Fact]
    public void RefusedFiles_NameThemselvesOnce()
    {
        string directory = Scratch.NewDirectory("once");
        string text = ElfPatcher.WriteExecutable(Path.Combine(directory, "text"), "not a program at all\n"u8.ToArray());
        byte[] program = File.ReadAllBytes(CaseBinaries.Get("segment_tail"));
        string truncated = ElfPatcher.WriteExecutable(Path.Combine(directory, "truncated"), program[..0x1800]);
        string misaligned = Patched("segment_tail", "misaligned", b =>
        {
            PatchedSegment load = ElfPatcher.Segments(b).Last(s => s.Type == ElfPatcher.PT_LOAD);
            BitConverter.TryWriteBytes(b.AsSpan(load.EntryOffset + 16), load.VirtualAddress + 8); // p_vaddr
        });
        foreach (string path in new[] { text, truncated, misaligned })
        {
            string line = AssertOneLineError(MemcheckLauncher.RunToolNone(path, []), 126);
            Assert.True(line.Split(path).Length == 2, $"the path should appear exactly once: {line}");
        }
    }

    /// <summary>The errno with which execve of <paramref name="program"/> fails natively (0 when it runs).</summary>
    private static int NativeExecErrno(string program)
    {
        try
        {
            using Process process = Process.Start(new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            process.WaitForExit();
            return 0;
        }
        catch (Win32Exception e)
        {
            return e.NativeErrorCode;
        }
    }

    private static string AssertOneLineError(RunResult result, int expectedExit)
    {
        string context = $"{result.CommandLine}\nexit {result.ExitCode}\nstderr:\n{result.StderrText}";
        Assert.True(result.ExitCode == expectedExit, $"expected exit {expectedExit}: {context}");
        string[] lines = result.StderrText.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1 && lines[0].StartsWith(MemcheckLauncher.MessagePrefix), $"expected one memcheck line: {context}");
        Assert.Empty(result.Stdout);
        return lines[0];
    }
}
