using System.Text.Json;
using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Programs that die of their own bad access or jump (tests/cases/crash_kinds.c): each is an
/// UNADDRESSABLE ACCESS error with the whole callstack unwound from the faulting instruction, in
/// the text and the JSON ("signal" names the error), then memcheck dies of the same signal, as
/// the program does natively. memcheck itself never crashes on them.
/// </summary>
public class CrashReportTests
{
    private const string Source = "crash_kinds.c";
    private const int SigSegv = 11;

    internal static MemcheckReport RunCase(string binary, string[] arguments, params string[] options)
    {
        string json = Path.Combine(Scratch.NewDirectory("crash-json"), "report.json");
        var run = MemcheckLauncher.Run(["--json", json, .. options, "--", binary, .. arguments]);
        Assert.True(File.Exists(json), $"no JSON report\n{run.CommandLine}\n{run.StderrText}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        return new MemcheckReport(run, document.RootElement.Clone());
    }

    /// <summary>The one error of a crash run: an unaddressable access of this type and address, and the death record pointing at it.</summary>
    private static JsonElement AssertCrash(MemcheckReport report, string mode, string type, ulong? address, string detail, bool summary = true)
    {
        string context = report.Context;
        Assert.True(report.Run.ExitCode == 128 + SigSegv, $"exit {report.Run.ExitCode}\n{context}");
        Assert.Equal($"mode {mode}\n", report.Run.StdoutText);
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}\n{context}");
        JsonElement error = errors[0];
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        Assert.StartsWith(detail, error.GetProperty("message").GetString());
        JsonElement access = error.GetProperty("access");
        Assert.Equal(type, access.GetProperty("type").GetString());
        if (address is ulong expected) Assert.Equal(expected, Address(access.GetProperty("address")));

        JsonElement signal = report.Root.GetProperty("signal");
        Assert.Equal(SigSegv, signal.GetProperty("number").GetInt32());
        Assert.Equal("SIGSEGV", signal.GetProperty("name").GetString());
        Assert.Equal(error.GetProperty("id").GetInt32(), signal.GetProperty("error").GetInt32());
        Assert.Equal(128 + SigSegv, report.Root.GetProperty("exit_code").GetInt32());
        if (summary) Assert.Contains("ERRORS FOUND:", report.Run.StderrText);
        Assert.DoesNotContain("NO ERRORS FOUND", report.Run.StderrText);
        Assert.Contains($"the program was killed by SIGSEGV, the access of Error #{error.GetProperty("id").GetInt32()}", report.Run.StderrText);
        return error;
    }

    [Theory]
    [InlineData("crash_kinds")]
    [InlineData("crash_kinds.O2")]
    [InlineData("crash_kinds.O2", "none")]
    public void NullWriteThreeFramesDown_FullStackToMain(string binary, string tool = "memcheck")
    {
        var report = RunCase(CaseBinaries.Get(binary), ["deep"], "--tool", tool);
        JsonElement stack = AssertCrash(report, "deep", "write", 0, "not within a mapped region", summary: tool == "memcheck").GetProperty("stack");
        string context = $"{Describe(stack)}\n{report.Context}";
        AssertFrame(stack[0], "level3", Source, Line(Source, "LINE_LEVEL3"), context);
        AssertFrame(stack[1], "level2", Source, Line(Source, "LINE_LEVEL2"), context);
        AssertFrame(stack[2], "level1", Source, Line(Source, "LINE_LEVEL1"), context);
        AssertFrame(stack[3], "main", Source, Line(Source, "LINE_MAIN_DEEP"), context);
    }

    /// <summary>
    /// A crash handler that sends the fault's siginfo back to its thread (rt_tgsigqueueinfo, as
    /// chromium's does) with the default action restored: the program dies of SIGSEGV, reported with
    /// the fault's access. The kernel delivered that SIGSEGV to memcheck's own fault handler, which
    /// took it for a fault of its own and memcheck died with a .NET stack trace.
    /// </summary>
    [Fact]
    public void AFaultReRaisedByItsHandler_KillsTheProgramAsNatively()
    {
        string program = CaseBinaries.Get("reraise_fault");
        var native = ProcessRunner.Run(program, []);
        Assert.Equal(128 + SigSegv, native.ExitCode);
        Assert.Equal("queued 10: code -1 value 42\ncaught 11: code 1 at 0xc0\n", native.StdoutText);
        var report = RunCase(program, []);
        string context = report.Context;
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        Assert.True(report.Run.ExitCode == 128 + SigSegv, $"exit {report.Run.ExitCode}\n{context}");
        Assert.DoesNotContain("   at Checker.", report.Run.StderrText);
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}\n{context}");
        Assert.StartsWith("not within a mapped region", errors[0].GetProperty("message").GetString());
        AssertFrame(errors[0].GetProperty("stack")[0], "main", "reraise_fault.c", Line("reraise_fault.c", "LINE_FAULT"), context);
        Assert.Contains("the program was killed by SIGSEGV", report.Run.StderrText);
    }

    [Fact]
    public void StrlenOfNull_ReportedAtTheCallersLine()
    {
        var report = RunCase(CaseBinaries.Get("crash_kinds.O2"), ["strlen"]);
        JsonElement stack = AssertCrash(report, "strlen", "read", 0, "not within a mapped region").GetProperty("stack");
        string context = $"{Describe(stack)}\n{report.Context}";
        Assert.Equal("strlen", FunctionOf(stack[0]));
        AssertFrame(stack[1], "main", Source, Line(Source, "LINE_STRLEN"), context);
    }

    [Theory]
    [InlineData("wild_call", 0x414141414141UL, "not within a mapped region", "LINE_WILD_CALL")]
    [InlineData("null_call", 0UL, "not within a mapped region", "LINE_NULL_CALL")]
    [InlineData("prot_none", null, "of non-executable memory", "LINE_PROT_NONE")]
    [InlineData("data", null, "of non-executable memory", "LINE_DATA")]
    public void CallToMemoryWithoutCode_IsTheProgramsSigsegvWithTheCaller(string mode, ulong? target, string detail, string marker)
    {
        var report = RunCase(CaseBinaries.Get("crash_kinds.O2"), [mode]);
        JsonElement error = AssertCrash(report, mode, "execute", target, detail);
        JsonElement stack = error.GetProperty("stack");
        string context = $"{Describe(stack)}\n{report.Context}";
        Assert.Equal(Address(error.GetProperty("access").GetProperty("address")), Address(stack[0].GetProperty("pc")));
        AssertFrame(stack[1], "main", Source, Line(Source, marker), context);
    }

    [Fact]
    public void DirectJumpWrappingBelowZero_IsAJumpToTheKernelHalf()
    {
        // The exit keeps its target as a 48-bit value, sign-extended: the address must come back whole.
        var report = RunCase(CaseBinaries.Get("crash_kinds"), ["wrapped_jmp"]);
        JsonElement error = AssertCrash(report, "wrapped_jmp", "execute", null, "not within a mapped region");
        ulong target = Address(error.GetProperty("access").GetProperty("address"));
        Assert.True(target >= 0xffff_ffff_8000_0000UL, $"target 0x{target:x}\n{report.Context}");
        Assert.Equal(target, Address(error.GetProperty("stack")[0].GetProperty("pc")));
    }

    [Fact]
    public void SmashedReturnAddress_IsAJumpToTheInvalidAddress()
    {
        var report = RunCase(CaseBinaries.Get("crash_kinds"), ["smash"]);
        AssertCrash(report, "smash", "execute", 0x4141414141414141, "not within a mapped region");
    }

    [Fact]
    public void WriteToAStringLiteral_IsAWriteOfReadOnlyMemory()
    {
        var report = RunCase(CaseBinaries.Get("crash_kinds.O2"), ["rodata"]);
        JsonElement stack = AssertCrash(report, "rodata", "write", null, "of read-only memory").GetProperty("stack");
        AssertFrame(stack[0], "main", Source, Line(Source, "LINE_RODATA"), $"{Describe(stack)}\n{report.Context}");
    }

    [Fact]
    public void WriteThatItsProtectionKeyForbids_SaysSo()
    {
        // pkey_mprotect with writes disabled: SIGSEGV with SEGV_PKUERR on a mapped, writable page.
        // Without protection keys on the machine the case writes through a null pointer instead.
        var report = RunCase(CaseBinaries.Get("crash_kinds"), ["pkey"]);
        bool pkeys = report.Errors.Length == 1 && Address(report.Errors[0].GetProperty("access").GetProperty("address")) != 8;
        JsonElement stack = AssertCrash(report, "pkey", "write", null, pkeys ? "of memory its protection key forbids" : "not within a mapped region").GetProperty("stack");
        AssertFrame(stack[0], "main", Source, Line(Source, "LINE_PKEY"), $"{Describe(stack)}\n{report.Context}");
    }

    [Theory]
    [InlineData("crash_kinds", "memcheck")]
    [InlineData("crash_kinds.O2", "memcheck")]
    [InlineData("crash_kinds", "none")]
    public void InfiniteRecursion_IsAStackOverflowNamingTheRecursingFunction(string binary, string tool)
    {
        var report = RunCase(CaseBinaries.Get(binary), ["recurse"], "--tool", tool);
        JsonElement error = AssertCrash(report, "recurse", "write", null, "beyond the stack limit (stack overflow", summary: tool == "memcheck");
        JsonElement stack = error.GetProperty("stack");
        string context = $"{Describe(stack)}\n{report.Context}";
        Assert.True(stack.GetArrayLength() >= 4, context);
        foreach (JsonElement frame in stack.EnumerateArray()) Assert.Equal("recurse", FunctionOf(frame));
        AssertFrame(stack[1], "recurse", Source, Line(Source, "LINE_RECURSE"), context);
    }

    [Fact]
    public void WriteAGigabyteBelowTheStack_FaultsAsNatively()
    {
        var native = ProcessRunner.Run(CaseBinaries.Get("crash_kinds"), ["below_stack"]);
        Assert.Equal(128 + SigSegv, native.ExitCode);
        var report = RunCase(CaseBinaries.Get("crash_kinds"), ["below_stack"]);
        JsonElement stack = AssertCrash(report, "below_stack", "write", null, "not within a mapped region").GetProperty("stack");
        AssertFrame(stack[0], "main", Source, Line(Source, "LINE_BELOW_STACK"), $"{Describe(stack)}\n{report.Context}");
    }

    /// <summary>memcheck's own memory (here its executable's data) is never written by the program it checks: the write is reported and faults.</summary>
    [Fact]
    public void WriteIntoMemchecksOwnData_IsReportedAndNeverLands()
    {
        var report = RunCase(CaseBinaries.Get("crash_kinds"), ["tool_memory"]);
        JsonElement stack = AssertCrash(report, "tool_memory", "write", null, "not within a mapped region").GetProperty("stack");
        AssertFrame(stack[0], "main", Source, Line(Source, "LINE_TOOL_MEMORY"), $"{Describe(stack)}\n{report.Context}");
    }

    /// <summary>The program's own SIGSEGV handler runs (and exits 7), after the faulting access is reported, as Valgrind does.</summary>
    [Fact]
    public void FaultWithTheProgramsHandler_ReportedThenTheHandlerRuns()
    {
        Assert.Equal(7, ProcessRunner.Run(CaseBinaries.Get("crash_kinds"), ["handler"]).ExitCode);
        var report = RunCase(CaseBinaries.Get("crash_kinds"), ["handler"]);
        string context = report.Context;
        Assert.True(report.Run.ExitCode == 7, $"exit {report.Run.ExitCode}\n{context}");
        JsonElement error = Assert.Single(report.Errors);
        Assert.Equal("unaddressable", error.GetProperty("kind").GetString());
        AssertFrame(error.GetProperty("stack")[0], "main", Source, Line(Source, "LINE_HANDLED"), context);
        Assert.False(report.Root.TryGetProperty("engine_failure", out _), context);
        Assert.False(report.Root.TryGetProperty("signal", out _), context);
    }

    /// <summary>A replaced function given a bad pointer faults as glibc's would, at the function, with the caller below: never in memcheck.</summary>
    [Fact]
    public void PosixMemalignIntoNull_IsTheFunctionsOwnFault()
    {
        var report = RunCase(CaseBinaries.Get("crash_kinds"), ["memalign_null"]);
        JsonElement stack = AssertCrash(report, "memalign_null", "write", 0, "not within a mapped region").GetProperty("stack");
        string context = $"{Describe(stack)}\n{report.Context}";
        Assert.EndsWith("posix_memalign", FunctionOf(stack[0]));   // glibc names the entry __posix_memalign
        AssertFrame(stack[1], "main", Source, Line(Source, "LINE_MEMALIGN"), context);
    }

    /// <summary>System calls memcheck emulates answer bad pointers with EFAULT, as the kernel does (tests/cases/bad_pointers.c).</summary>
    [Fact]
    public void EmulatedSystemCallsWithBadPointers_EfaultAsNatively()
    {
        string program = CaseBinaries.Get("bad_pointers");
        var (native, _) = NativeComparison.AssertSameBehaviour(program, []);
        Assert.Contains("rt_sigaction act             -1 Bad address", native.StdoutText);
        var checkedRun = MemcheckLauncher.Run(["--", program]);
        Assert.True(checkedRun.ExitCode == 0, checkedRun.StderrText);
        Assert.Equal(native.StdoutText, checkedRun.StdoutText);
    }
}
