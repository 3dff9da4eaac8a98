using System.Text;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// The guest's view of itself and of what it was started with: /proc/self/exe, the auxiliary
/// vector, argv, the environment, clocks and stdin.
/// </summary>
public class GuestEnvironmentTests
{
    [Fact]
    public void SelfView_ExeAuxvArgvAndClocks()
    {
        var program = CaseBinaries.Get("self_view");
        var (native, memcheck) = NativeComparison.AssertSameBehaviour(program, ["one", "two words", ""]);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal(
            $"exe={program}\n" +
            $"pagesz={Environment.SystemPageSize}\n" +
            "vdso=present\n" +
            "argc=4\n" +
            $"argv[0]={program}\n" +
            "argv[1]=one\n" +
            "argv[2]=two words\n" +
            "argv[3]=\n" +
            "monotonic ok\n" +
            "gettimeofday ok\n",
            memcheck.StdoutText);
    }

    /// <summary>
    /// RLIMIT_AS set by the program for itself: memcheck died when it next mapped something of its own
    /// (libelf, loaded for the first malloc's callstack). The limit is the program's view, and the heap
    /// holds it to it: the same output as native. Its own mmap and brk are held to it too (under
    /// --tool none glibc's malloc gets its memory so; it ran on without failing when only the kernel,
    /// which never sees the limit, was asked).
    /// </summary>
    [Fact]
    public void AnAddressSpaceLimitTheProgramSetsItself_IsItsOwn()
    {
        string program = CaseBinaries.Get("memory_limits");
        var native = ProcessRunner.Run(program, []);
        Assert.Equal(0, native.ExitCode);
        Assert.Contains("400 MB: refused\n", native.StdoutText);
        Assert.EndsWith("mmap 400 MB: refused\n16 MB maps until refused: stopped\nsbrk 400 MB: refused\n", native.StdoutText);
        var memcheck = MemcheckLauncher.Run(["--", program]);
        Assert.True(memcheck.ExitCode == 0, $"exit {memcheck.ExitCode}\n{memcheck.StderrText}");
        Assert.Equal(native.StdoutText, memcheck.StdoutText);
        // Under --tool none the program's own malloc gets its memory by mmap and brk, held to the limit as natively.
        var none = MemcheckLauncher.Run(["--tool", "none", "--", program]);
        Assert.True(none.ExitCode == 0, $"exit {none.ExitCode}\n{none.StderrText}");
        Assert.Equal(native.StdoutText, none.StdoutText);
    }

    /// <summary>
    /// /proc/self/task and /proc/self/fd hold memcheck's own threads and descriptors too: chromium's
    /// zygote (its single-thread check, st_nlink of self/task) died of a CHECK, and crashpad warned
    /// at each descriptor it could not close. Both directories as natively, under both tools.
    /// </summary>
    [Fact]
    public void ItsOwnTaskAndFdDirectories_HoldOnlyItsThreadsAndDescriptors()
    {
        string program = CaseBinaries.Get("proc_self_dirs");
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.StartsWith("task links 4, entries 2\n", native.StdoutText);
        Assert.Contains("closes failed 0\n", native.StdoutText);
        var memcheck = MemcheckLauncher.Run(["--", program]);
        NativeComparison.AssertSame(native, memcheck);
    }

    /// <summary>
    /// /proc/self/status's Threads: and /proc/self/stat's num_threads (and a task's) count the
    /// program's threads only, as natively: memcheck's own made them 3 higher.
    /// </summary>
    [Fact]
    public void ItsThreadCountInProc_IsItsOwn()
    {
        string program = CaseBinaries.Get("proc_thread_count");
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Equal("alone: 1 1\nthree: 3 3 3\njoined: 1\n", native.StdoutText);
        NativeComparison.AssertSame(native, MemcheckLauncher.Run(["--", program]));
    }

    /// <summary>Code made executable by pkey_mprotect (V8's code space) runs, as after mprotect: it was "non-executable memory" and the renderer died.</summary>
    [Fact]
    public void CodeMadeExecutableWithAProtectionKey_Runs()
    {
        string program = CaseBinaries.Get("pkey_code");
        var native = ProcessRunner.Run(program, []);
        Assert.Equal("returned 42\n", native.StdoutText);
        var memcheck = MemcheckLauncher.Run(["--", program]);
        NativeComparison.AssertSame(native, memcheck);
        Assert.DoesNotContain("UNADDRESSABLE", memcheck.StderrText);
    }

    /// <summary>
    /// A program with its own malloc family and an internal free no name exports (chromium's
    /// allocator shim and PartitionAlloc): its allocator runs as its code and the program behaves as
    /// natively. With its exports replaced, its internal free met 1,000 blocks without its header
    /// (chromium crashed in PartitionAlloc's free; Valgrind 3.19 replaces them and this program
    /// prints "1000 bad headers" under it).
    /// </summary>
    [Fact]
    public void AProgramsOwnAllocator_IsLeftToRun()
    {
        string program = CaseBinaries.Get("own_allocator");
        var native = ProcessRunner.Run(program, []);
        Assert.Equal("own allocator: 0 bad headers\n", native.StdoutText);
        var memcheck = MemcheckLauncher.Run(["--", program]);
        NativeComparison.AssertSame(native, memcheck);
        Assert.DoesNotContain("INVALID HEAP ARGUMENT", memcheck.StderrText);
        Assert.Contains($"{program} has its own malloc, left to run as its code (its other entry points would meet blocks it never made): its heap blocks were not checked", memcheck.StderrText);
    }

    /// <summary>
    /// In a program with its own allocator, a client-request block freed with FREELIKE_BLOCK goes back
    /// to memory memcheck does not track: the allocator hands it out again unseen, and its new use is
    /// no error (GLib's GObjects over Chromium's PartitionAlloc were reported as uses of freed memory).
    /// </summary>
    [Fact]
    public void AProgramsOwnAllocator_HandsFreedClientBlocksOutAgainWithoutErrors()
    {
        string program = CaseBinaries.Get("own_allocator_freelike");
        var native = ProcessRunner.Run(program, []);
        Assert.Equal("reused 1, byte 2\n", native.StdoutText);
        var memcheck = MemcheckLauncher.Run(["--", program]);
        NativeComparison.AssertSame(native, memcheck);
        Assert.DoesNotContain("UNADDRESSABLE", memcheck.StderrText);
        Assert.Contains("NO ERRORS FOUND", memcheck.StderrText);
    }

    [Fact]
    public void ManyArgumentsAndAHugeEnvironmentVariable()
    {
        var random = new Random(200);
        var args = new List<string>();
        for (int i = 0; i < 200; i++)
        {
            args.Add((i % 4) switch
            {
                0 => $"arg{i}",
                1 => $"with space {i} and \"quotes\" and 'apostrophes'",
                2 => i % 8 == 2 ? "" : $"--option-{i}={new string('x', random.Next(1, 300))}",
                _ => $"ünïcödé-{i}-\t-tab",
            });
        }
        var big = new StringBuilder(100 * 1024);
        while (big.Length < 100 * 1024)
            big.Append((char)('a' + random.Next(26)));
        var environment = new Dictionary<string, string?> { ["CHECKER_BIG"] = big.ToString() };

        var (native, _) = NativeComparison.AssertSameBehaviour(
            CaseBinaries.Get("args_and_env"), args, environment: environment);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("argc=201\n", native.StdoutText);
        Assert.Contains($"argv[200]={args[199]}\n", native.StdoutText);
        Assert.Contains($"CHECKER_BIG: length {100 * 1024} hash ", native.StdoutText);
    }

    [Fact]
    public void Cat_FiveMegabytesThroughStdin()
    {
        var input = TestData.CompressibleBytes(seed: 5, length: 5 * 1024 * 1024);

        var (native, memcheck) = NativeComparison.AssertSameBehaviour("/usr/bin/cat", [], stdin: input);

        Assert.Equal(0, native.ExitCode);
        var diff = ByteDiff.Describe(input, memcheck.Stdout);
        Assert.True(diff is null, $"cat under memcheck did not copy stdin to stdout unchanged: {diff}");
    }
}
