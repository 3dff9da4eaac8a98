using System.Text.RegularExpressions;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>What the engine promises beyond running code: consistency when code changes, and a clear stop for what it cannot translate.</summary>
public class EngineBehaviourTests
{
    [Theory]
    [InlineData("heap_overflow_underflow.static", "memcheck")]
    [InlineData("hello_static", "none")]
    public void ABlockEndsWhereCodeAlreadyTranslatedBegins(string binary, string tool)
    {
        // MEMCHECK_TRACE=1 prints each fragment as it is made ("fragment 0xSTART-0xEND mMODE") and
        // flushed ("flushed fragment ..."): no fragment may run over the entry of a live one made
        // before it in its mode (that code is linked to, not translated again).
        string log = Path.Combine(Scratch.NewDirectory("block-ends"), "trace.txt");
        var environment = new Dictionary<string, string?> { ["MEMCHECK_TRACE"] = "1" };
        RunResult run = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get(binary)], null, environment, null);
        RunResult traced = MemcheckLauncher.Run(["--tool", tool, $"--log-file={log}", "--", CaseBinaries.Get(binary)], null, environment, null);
        string text = File.ReadAllText(log);

        var entries = new Dictionary<int, SortedSet<ulong>>();
        int fragments = 0, endedAtAnEntry = 0;
        foreach (Match m in Regex.Matches(text, @"memcheck-trace: (flushed )?fragment 0x([0-9a-f]+)-0x([0-9a-f]+) m(\d+) "))
        {
            ulong start = Convert.ToUInt64(m.Groups[2].Value, 16), end = Convert.ToUInt64(m.Groups[3].Value, 16);
            int mode = int.Parse(m.Groups[4].Value);
            SortedSet<ulong> known = entries.TryGetValue(mode, out var set) ? set : entries[mode] = [];
            if (m.Groups[1].Success)
            {
                known.Remove(start);
                continue;
            }
            SortedSet<ulong> inside = start + 1 < end ? known.GetViewBetween(start + 1, end - 1) : [];
            Assert.True(inside.Count == 0, $"fragment 0x{start:x}-0x{end:x} m{mode} runs over the entry 0x{inside.Min:x} made before it");
            if (known.Contains(end)) endedAtAnEntry++;
            known.Add(start);
            fragments++;
        }
        Assert.True(fragments > 100, $"{fragments} fragments traced\n{traced.StderrText}");
        Assert.True(endedAtAnEntry > 0, "no block ended at an entry made before it");
        RunResult native = ProcessRunner.Run(CaseBinaries.Get(binary), []);
        Assert.Equal(native.StdoutText, run.StdoutText);
        Assert.Equal(native.StdoutText, traced.StdoutText);
    }

    [Fact]
    public void EntryProfile_CountsFragmentsByHowTheyEnd()
    {
        // MEMCHECK_ENTRY_PROFILE=1: each of the loop's 100000 iterations ends one fragment at a direct
        // call, one at a ret and one at a jmp back (the program's start-up adds more of each).
        var environment = new Dictionary<string, string?> { ["MEMCHECK_ENTRY_PROFILE"] = "1" };
        RunResult run = MemcheckLauncher.Run(["-q", "--", CaseBinaries.Get("entry_profile_loop")], null, environment, null);
        Assert.Equal("100000 calls\n", run.StdoutText);
        Assert.Equal(0, run.ExitCode);
        var ends = new Dictionary<string, long>();
        foreach (Match m in Regex.Matches(run.StderrText, @"entry profile: (\S+(?: \S+)?) +\d+ fragments +(\d+) entries +(\d+) ends"))
            ends[m.Groups[1].Value] = long.Parse(m.Groups[3].Value);
        Assert.True(ends.Count > 3, run.StderrText);
        foreach (string ending in new[] { "call direct", "ret", "jmp back" })
            Assert.True(ends.GetValueOrDefault(ending) is >= 100_000 and < 200_000, $"{ending}: {ends.GetValueOrDefault(ending)}\n{run.StderrText}");
        Match total = Regex.Match(run.StderrText, @"entry profile: \d+ fragments, (\d+) entries");
        Assert.True(total.Success && long.Parse(total.Groups[1].Value) >= 300_000, run.StderrText);
    }

    [Fact]
    public void RemappedAndRewrittenCode_RunsTheNewCode()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.Get("code_rewrite"), []);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal("first: 1\nafter remap: 2\nafter rewrite: 3\nafter rewrite: 4\nafter rewrite: 5\n", native.StdoutText);
    }

    [Theory]
    [InlineData("got_rewrite", "none")]
    [InlineData("got_rewrite.noplt", "none")]
    [InlineData("got_rewrite", "memcheck")]
    [InlineData("got_rewrite.lazy", "none")]
    [InlineData("got_rewrite.lazy", "memcheck")]
    public void CallsThroughARewrittenReadOnlyGotSlot_ReachTheNewTarget(string program, string tool)
    {
        // Bound PLT slots are read-only: their jumps become direct branches, undone when the page changes;
        // lazily bound ones are writable: their jumps compare the slot first.
        var native = ProcessRunner.Run(CaseBinaries.Get(program), []);
        var result = MemcheckLauncher.Run(["--tool", tool, "--stats", "--", CaseBinaries.Get(program)]);

        NativeComparison.AssertSame(native, result);
        Assert.Equal(0, native.ExitCode);
        Assert.Equal(string.Concat(
            string.Concat(Enumerable.Repeat("strtol: 7\n", 3)), string.Concat(Enumerable.Repeat("after rewrite: 42\n", 3)),
            string.Concat(Enumerable.Repeat("after rwx rewrite: 99\n", 3)), string.Concat(Enumerable.Repeat("writable: 5\n", 3)),
            string.Concat(Enumerable.Repeat("written in place: 42\n", 3)),
            string.Concat(Enumerable.Repeat("through a pointer: 7\n", 3)), string.Concat(Enumerable.Repeat("through a pointer: 99\n", 3))), native.StdoutText);
        string counter = program.EndsWith(".lazy") ? "checked slot targets" : "constant indirect targets";
        string? line = NativeComparison.MemcheckLines(result.Stderr).FirstOrDefault(l => l.Contains(counter));
        Assert.True(line != null && long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]) > 0,
            $"no '{counter}' in --stats:\n{result.StderrText}");
        if (tool == "memcheck") Assert.Contains(NativeComparison.MemcheckLines(result.Stderr), l => l.Contains("NO ERRORS FOUND"));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("memcheck")]
    public void AnIndirectJumpsTargetReadsTheFlagsSetBeforeIt(string tool)
    {
        // A cmp, then a jmp through a register to code that reads CF, ZF, SF and OF (or runs inc,
        // which keeps CF, and reads CF): the jmp's lookup overwrites the flags after saving them, and
        // a target that may read them first gets them back, on a hit and on a miss alike.
        var native = ProcessRunner.Run(CaseBinaries.Get("indirect_jump_flags"), []);
        var result = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get("indirect_jump_flags")]);

        NativeComparison.AssertSame(native, result);
        Assert.Contains("flags 16: 36000\n", native.StdoutText);   // inc's path, CF clear
        Assert.Contains("flags 17: 28000\n", native.StdoutText);   // and set
        Assert.Contains("flags 13: 7000\n", native.StdoutText);    // CF, SF and OF at once
    }

    [Theory]
    [InlineData("none")]
    [InlineData("memcheck")]
    public void VectorRegistersSurviveExitsToTheDispatcher(string tool)
    {
        // ymm0-15 across a system call, which leaves the cache: loaded whole, loaded as xmm with clean
        // (zero) upper halves, and with a value on the x87 stack. The exit keeps the first two by hand
        // (only SSE/AVX state in use) and the third by XSAVE; rounds alternate, so each follows the others.
        var native = ProcessRunner.Run(CaseBinaries.Get("vector_state_exits"), []);
        var result = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get("vector_state_exits")]);

        NativeComparison.AssertSame(native, result);
        Assert.Contains("whole ymm: 100 of 100\n", native.StdoutText);
        Assert.Contains("xmm with clean upper halves: 100 of 100\n", native.StdoutText);
        Assert.Contains("ymm with x87 in use: 100 of 100, pi 100 of 100\n", native.StdoutText);
    }

    [Fact]
    public void ProtectionKeysSurviveExitsToTheDispatcher()
    {
        // PKRU set by the program (pkey_set) stays its own across system calls: the exit routines
        // keep vector state by hand or by XSAVE, never PKRU, which only the program changes. A write
        // with the key's writes disabled faults each round, a write after enabling them does not.
        var native = ProcessRunner.Run(CaseBinaries.Get("pkey_across_exits"), []);
        var result = MemcheckLauncher.Run(["--tool", "none", "--", CaseBinaries.Get("pkey_across_exits")]);

        NativeComparison.AssertSame(native, result);
        Assert.True(native.StdoutText is "faults 3, page[1] 2\n" or "no pkeys\n", native.StdoutText);
    }

    [Fact]
    public void Statistics_DescribeTheHeapAtItsLargest()
    {
        // 2,000 blocks of 1,000 bytes held at once: --stats gives the arena's extent (all of them with
        // their 128-byte redzones: 2.56 MB at least), what it held when it last grew (live blocks of
        // 1,000 bytes each), and memcheck's peak RSS.
        var native = ProcessRunner.Run(CaseBinaries.Get("heap_held_blocks"), []);
        var result = MemcheckLauncher.Run(["--stats", "--", CaseBinaries.Get("heap_held_blocks")]);

        NativeComparison.AssertSame(native, result);
        Assert.Equal("sum 250008\n", native.StdoutText);
        var lines = NativeComparison.MemcheckLines(result.Stderr);
        string Value(string name)
        {
            string? line = lines.FirstOrDefault(l => l.Contains(name, StringComparison.Ordinal));
            Assert.True(line != null, $"no '{name}' in --stats:\n{result.StderrText}");
            return line[(line.IndexOf(name, StringComparison.Ordinal) + name.Length)..].Trim();
        }
        static double Mb(string text) => double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        double arena = Mb(Value("heap arena MB"));
        string[] live = Value("last grown at live MB").Split(' ');
        double liveMb = Mb(live[0]);
        long blocks = long.Parse(live[1].Trim('('));
        double peak = Mb(Value("peak resident MB"));
        string context = result.StderrText;
        Assert.True(arena >= 2.56 && arena <= 4.5, context);
        Assert.True(blocks >= 1000 && blocks <= 2010 && Math.Abs(liveMb - blocks * 0.001) < 0.06, context);
        Assert.Matches(@"quarantined/held/free MB +\d+\.\d / \d+\.\d / \d+\.\d", context);
        Assert.True(peak > arena, context);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("memcheck")]
    public void Statistics_SplitIndirectLookupsByBranchKind_AndLeafReturnsArePredicted(string tool)
    {
        // 100,000 calls through a function pointer (an indirect call and a ret each) and 100,000 switch
        // dispatches through a jump table (an indirect jmp and a ret each), plus start-up and exit's few;
        // the rets return to the latest call, so they take its predicted continuation (ReturnPrediction).
        const long n = 100_000;
        var native = ProcessRunner.Run(CaseBinaries.Get("indirect_branch_kinds"), []);
        var result = MemcheckLauncher.Run(["--tool", tool, "--stats", "--", CaseBinaries.Get("indirect_branch_kinds")]);

        NativeComparison.AssertSame(native, result);
        Assert.Equal("sum 41691353687500\n", native.StdoutText);
        var lines = NativeComparison.MemcheckLines(result.Stderr);
        long Count(string name)
        {
            string? line = lines.FirstOrDefault(l => l.Contains(name, StringComparison.Ordinal));
            Assert.True(line != null, $"no '{name}' in --stats:\n{result.StderrText}");
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]);
        }
        long all = Count("indirect lookups"), rets = Count("at rets"), calls = Count("at indirect calls"), jmps = Count("at indirect jmps");
        long predicted = Count("predicted returns");
        string context = string.Join('\n', lines);
        Assert.True(all == rets + calls + jmps, context);
        // Every one of the 2n returns is a leaf's, to the latest call: predicted, not looked up.
        Assert.True(predicted >= 2 * n && predicted + rets < 2 * n + 20_000, context);
        Assert.True(rets < 20_000, context);
        Assert.True(calls >= n && calls < n + 20_000, context);
        Assert.True(jmps >= n && jmps < n + 20_000, context);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("memcheck")]
    public void APredictedReturnIntoRewrittenCode_RunsTheNewCode(string tool)
    {
        // The leaf's ret takes its caller's predicted continuation, an exit of a fragment flushed
        // (with its target's) while the leaf ran: it must lead to the dispatcher, not the old target.
        var native = ProcessRunner.Run(CaseBinaries.Get("return_prediction_flush"), []);
        var result = MemcheckLauncher.Run(["--tool", tool, "--", CaseBinaries.Get("return_prediction_flush")]);

        NativeComparison.AssertSame(native, result);
        Assert.Equal("run 0: 1\nrun 1: 1\nrun 2: 1\nrewritten before the return: 42\nrewritten again: 43\nleft alone: 43\n", native.StdoutText);
    }

    [Fact]
    public void LoopJrcxzRetImmFsIndexedAndRdfsbase_BehaveNatively()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.Get("odd_instructions"), []);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal("loop 42 loope 6 jrcxz 7/9 ret_imm 5\nfs self pointer consistent: 1\nrdfsbase equals fs:0: 1\n", native.StdoutText);
    }

    [Fact]
    public void GuestClosingEveryDescriptor_DoesNotSilenceMemcheck()
    {
        var result = MemcheckLauncher.RunToolNone(CaseBinaries.Get("close_all_fds"), []);
        string context = $"{result.CommandLine}\nexit {result.ExitCode}\nstderr:\n{result.StderrText}";

        Assert.Equal("closed\n", result.StdoutText);
        var lines = NativeComparison.MemcheckLines(result.Stderr);
        Assert.True(lines.Any(l => l.Contains("killed by SIGSEGV")), context);
    }

    [Fact]
    public void CrashReport_NamesFunctionFileAndLineOfTheFault()
    {
        string source = Path.Combine(RepoPaths.Cases, "null_deref.c");
        int line = Array.FindIndex(File.ReadAllLines(source), l => l.Contains("= *null_pointer;")) + 1;
        // -O0: at -O2 the line table rightly attributes the load to the printf that uses it.
        var result = MemcheckLauncher.RunToolNone(CaseBinaries.Get("null_deref.O0"), []);
        var lines = NativeComparison.MemcheckLines(result.Stderr);
        string context = $"{result.CommandLine}\nstderr:\n{result.StderrText}";

        Assert.True(lines.Count >= 2 && lines[0].Contains("UNADDRESSABLE ACCESS not within a mapped region: reading 4 byte(s) at 0x0"), context);
        Assert.True(line > 0);
        Assert.Contains($"#0 main [{source}:{line}]", lines[1]);
        Assert.Contains("(null_deref.O0+0x", lines[1]);
        Assert.Contains(lines, l => l.Contains("the program was killed by SIGSEGV, the access of Error #1"));
    }

    [Fact]
    public void GuestCannotMapOverUnmapOrProtectTheCodeCache()
    {
        var result = MemcheckLauncher.RunToolNone(CaseBinaries.Get("map_over_tool"), []);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("map 1 unmap 1 protect 1\n", result.StdoutText);
    }

    [Fact]
    public void UntranslatableInstruction_StopsWithOneLineNamingPcAndBytes()
    {
        var result = MemcheckLauncher.RunToolNone(CaseBinaries.Get("int80"), []);
        string context = $"{result.CommandLine}\nexit {result.ExitCode}\nstdout:\n{result.StdoutText}\nstderr:\n{result.StderrText}";

        Assert.True(result.ExitCode == 125, $"expected exit 125: {context}");
        Assert.Equal("before int 0x80\n", result.StdoutText);
        var lines = result.StderrText.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1 && lines[0].StartsWith(MemcheckLauncher.MessagePrefix, StringComparison.Ordinal), context);
        Assert.Matches(@"at 0x[0-9a-f]+", lines[0]);
        Assert.Contains("cd80", lines[0]);
        Assert.DoesNotContain("Unhandled exception", result.StderrText);
    }
}
