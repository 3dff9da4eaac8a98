using System.Text.Json;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// Uninitialized reads (issue 10): an undefined value is reported where it decides something (a
/// conditional jump, an address, a system call's buffer), at the right line, once per site, and
/// copies of undefined bytes never are; correct programs full of partly initialized memory
/// (padding, bitfields, string tails, small-string buffers, vector capacity) report nothing.
/// </summary>
public class UninitializedReadTests
{
    private static string Message(JsonElement error) => error.GetProperty("message").GetString()!;

    private static string Describe(JsonElement[] errors) => string.Join(" | ", errors.Select(e => $"{e.GetProperty("kind").GetString()}: {Message(e)}"));

    /// <summary>The innermost frame of the error that is in <paramref name="source"/>.</summary>
    private static JsonElement UserFrame(JsonElement error, string source) =>
        error.GetProperty("stack").EnumerateArray().First(f => f.TryGetProperty("file", out JsonElement file) && file.GetString()!.EndsWith(source, StringComparison.Ordinal));

    [Theory]
    [InlineData("uninit_uses")]
    [InlineData("uninit_uses.O2")]
    public void UndefinedValues_ReportedWhereTheyDecide(string binary)
    {
        const string source = "uninit_uses.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Marker, string Function, string Words)[] expected =
        [
            ("LINE_HEAP_BRANCH", "heap_value_in_a_branch", "a conditional jump depends on undefined flags"),
            ("LINE_INDEX", "array_index", "-byte address register"),
            ("LINE_ARITH", "through_arithmetic_shift_and_call", "a conditional jump depends on undefined flags"),
            ("LINE_DOUBLE", "double_compared", "a conditional jump depends on undefined flags"),
            ("LINE_REALLOC", "realloc_growth", "a conditional jump depends on undefined flags"),
            ("LINE_WRITE", "write_with_holes", "write parameter buf[7..9] is undefined (3 of its 10 bytes"),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (marker, function, words) = expected[i];
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.True(Message(errors[i]).Contains(words, StringComparison.Ordinal), $"error {i + 1}: expected \"{words}\", got \"{Message(errors[i])}\"\n{context}");
            Assert.Equal(1, errors[i].GetProperty("count").GetInt32());
            AssertFrame(UserFrame(errors[i], source), function, source, Line(source, marker), context);
        }
        Assert.Contains("UNINITIALIZED READ: a conditional jump depends on undefined flags", report.Run.StderrText);
    }

    /// <summary>
    /// Stack memory: a new frame and a callee's red zone are undefined until written, so a local set
    /// on one path, a leaf function's partly filled array and a struct's padding passed to write()
    /// report, at -O0 (locals through rbp) and -O2 (through rsp, the array in the red zone); an out
    /// parameter, a buffer snprintf fills, recursion and alloca'd memory written before use do not.
    /// </summary>
    [Theory]
    [InlineData("uninit_stack")]
    [InlineData("uninit_stack.O2")]
    public void UninitializedStackMemory_ReportedWhereItDecides(string binary)
    {
        const string source = "uninit_stack.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        JsonElement[] errors = report.Errors;
        Assert.Equal("clean 267\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Marker, string Function, string Words)[] expected =
        [
            ("LINE_LOCAL", "local_on_one_path", "depends on undefined flags"),
            ("LINE_ARRAY", "partly_filled_array", "depends on undefined flags"),
            ("LINE_WRITE", "record_with_holes", "write parameter buf["),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (marker, function, words) = expected[i];
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.True(Message(errors[i]).Contains(words, StringComparison.Ordinal), $"error {i + 1}: expected \"{words}\", got \"{Message(errors[i])}\"\n{context}");
            AssertFrame(UserFrame(errors[i], source), function, source, Line(source, marker), context);
        }
    }

    /// <summary>
    /// A call paints the callee's red zone and a frame's sub rsp paints the frame: after a call that
    /// left the same stack bytes defined, a big frame's unwritten local, a leaf's red-zone array and
    /// a five-push leaf's red-zone array are each reported, at -O0 and -O2 (a call that defined only
    /// its return slot before a small frame or a leaf that uses the red zone loses two of them).
    /// </summary>
    [Theory]
    [InlineData("uninit_callee_frames")]
    [InlineData("uninit_callee_frames.O2")]
    public void CalleeFrames_ReadBeforeWriteIsReportedInRedZonesAndFrames(string binary)
    {
        const string source = "uninit_callee_frames.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        JsonElement[] errors = report.Errors;
        Assert.Equal("done 1\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Marker, string Function)[] expected =
        [
            ("LINE_BIG", "big_frame_reader"),
            ("LINE_RED_ZONE", "red_zone_reader"),
            ("LINE_SMALL", "small_frame_reader"),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (marker, function) = expected[i];
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.True(Message(errors[i]).Contains("depends on undefined flags", StringComparison.Ordinal), $"error {i + 1}: got \"{Message(errors[i])}\"\n{context}");
            AssertFrame(UserFrame(errors[i], source), function, source, Line(source, marker), context);
        }
    }

    /// <summary>
    /// Frames on stacks other than the thread's own (a coroutine's malloc'd stack, an alternate
    /// signal stack, a stack given to pthread_create) start undefined too: stale locals another frame
    /// left there are reported, as Valgrind reports them. Two coroutines on adjacent mmap'd stacks
    /// keep their live frames across swapcontext, where Valgrind's stack-switch guess paints them
    /// undefined and reports falsely: nothing is reported there.
    /// </summary>
    [Theory]
    [InlineData("uninit_foreign_stacks")]
    [InlineData("uninit_foreign_stacks.O2")]
    public void FramesOnForeignStacks_StartUndefined_AndSwitchesPaintNothing(string binary)
    {
        const string source = "uninit_foreign_stacks.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        (string Marker, string Function)[] expected =
        [
            ("LINE_COROUTINE", "heap_coroutine"),
            ("LINE_HANDLER", "on_usr1"),
            ("LINE_THREAD", "thread_main"),
            ("LINE_MAIN", "main"),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Contains("conditional jump", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), expected[i].Function, source, Line(source, expected[i].Marker), context);
        }
    }

    /// <summary>An undefined value in a callee-saved register survives the callee's push and pop (the pop is probed): reported after the call, as valgrind.</summary>
    [Theory]
    [InlineData("uninit_callee_saved")]
    [InlineData("uninit_callee_saved.O2")]
    public void UndefinedCalleeSavedRegister_SurvivesTheCallee(string binary)
    {
        const string source = "uninit_callee_saved.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        Assert.Equal(0, report.Run.ExitCode);
        JsonElement error = Assert.Single(report.Errors);
        Assert.Equal("uninitialized", error.GetProperty("kind").GetString());
        Assert.Contains("conditional jump", Message(error));
        AssertFrame(UserFrame(error, source), "main", source, Line(source, "LINE_AFTER_CALL"), report.Context);
    }

    /// <summary>
    /// An epilogue's run of pops is probed once: an undefined slot deep in the run (rbx popped sixth,
    /// third, first; flags live and dead) still brings the undefined value back, reported after each call.
    /// </summary>
    [Theory]
    [InlineData("uninit_pop_runs")]
    [InlineData("uninit_pop_runs.O2")]
    public void RunOfPops_ProbedOnce_RestoresAnUndefinedSlotAnywhereInTheRun(string binary)
    {
        const string source = "uninit_pop_runs.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal("done\n", report.Run.StdoutText);
        JsonElement[] errors = report.Errors;
        string[] markers = ["LINE_SIX", "LINE_THREE", "LINE_ONE"];
        Assert.True(errors.Length == markers.Length, $"expected {markers.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < markers.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Contains("conditional jump", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), "main", source, Line(source, markers[i]), report.Context);
        }
    }

    /// <summary>
    /// Pops inside a held-scratch run (a checked load with every register live just before them) are
    /// probed too: the undefined rbx a callee saved comes back undefined, reported after each call, and
    /// the probe's exit to the propagating mode gives the held register (rdx) its guest value back.
    /// </summary>
    [Theory]
    [InlineData("uninit_pop_held")]
    [InlineData("uninit_pop_held.O2")]
    public void PopsInsideAHeldScratchRun_AreProbed_AndKeepTheHeldRegister(string binary)
    {
        const string source = "uninit_pop_held.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal("done\n", report.Run.StdoutText);
        JsonElement[] errors = report.Errors;
        string[] markers = ["LINE_ONE", "LINE_THREE"];
        Assert.True(errors.Length == markers.Length, $"expected {markers.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < markers.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Contains("conditional jump", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), "main", source, Line(source, markers[i]), report.Context);
        }
    }

    /// <summary>A heap struct's field stores (one merged check at -O2) leave its padding undefined: write() reports bytes 1..3 only.</summary>
    [Theory]
    [InlineData("uninit_padding")]
    [InlineData("uninit_padding.O2")]
    public void PaddingBetweenFieldStores_StaysUndefined(string binary)
    {
        const string source = "uninit_padding.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        Assert.Equal(0, report.Run.ExitCode);
        JsonElement error = Assert.Single(report.Errors);
        Assert.Equal("uninitialized", error.GetProperty("kind").GetString());
        Assert.Contains("write parameter buf[1..3] is undefined (3 of its 16 bytes", Message(error));
        AssertFrame(UserFrame(error, source), "main", source, Line(source, "LINE_WRITE"), report.Context);
    }

    /// <summary>enter opens an undefined frame but keeps the rbp it pushed defined (leave pops it): only the stale local is reported.</summary>
    [Theory]
    [InlineData("uninit_enter")]
    [InlineData("uninit_enter.O2")]
    public void EnterFrames_StartUndefined_AndTheirSavedRbpStaysDefined(string binary)
    {
        const string source = "uninit_enter.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        Assert.Equal("done\n", report.Run.StdoutText);
        JsonElement error = Assert.Single(report.Errors);
        Assert.Equal("uninitialized", error.GetProperty("kind").GetString());
        AssertFrame(UserFrame(error, source), "main", source, Line(source, "LINE_STALE"), report.Context);
    }

    /// <summary>
    /// A register a run of mode-0 checks holds in gs:[HeldScratch] (rsi, the next call's argument)
    /// gets its guest value back when an undefined read in that run (another check, with a dead
    /// scratch of its own) leaves for the propagating mode: the callee receives n * 8 as natively,
    /// not a shadow index (gio's g_signal_newv allocated 17592118934344 bytes). Nothing is reported.
    /// </summary>
    [Fact]
    public void HeldScratch_GivenBackWhenAnUndefinedReadSwitchesModes()
    {
        string binary = CaseBinaries.Get("uninit_held_scratch");
        RunResult native = ProcessRunner.Run(binary, []);
        Assert.Equal("bytes passed: 48\n", native.StdoutText);
        var report = RunMemcheck(binary);
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.True(report.Errors.Length == 0, $"{Describe(report.Errors)}\n{report.Context}");
    }

    /// <summary>
    /// The replaced allocation functions run in C#, where no propagation sees their arguments: an
    /// undefined size or pointer is reported at their entry, at the caller's line, as Valgrind's
    /// replacement malloc reports one.
    /// </summary>
    [Fact]
    public void UndefinedArgumentsOfReplacedAllocationFunctions_Reported()
    {
        const string source = "uninit_heap_args.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_heap_args"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        (string Marker, string Words)[] expected =
        [
            ("LINE_MALLOC", "malloc parameter size (rdi) is undefined"),
            ("LINE_REALLOC", "realloc parameter size (rsi) is undefined"),
            ("LINE_FREE", "free parameter ptr (rdi) is undefined"),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.Equal(expected[i].Words, Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), "main", source, Line(source, expected[i].Marker), report.Context);
        }
    }

    /// <summary>
    /// Lane-precise data movement and Valgrind's exact equality: a branch on a defined lane of an
    /// interleave/shuffle of a partly defined vector, and a compare whose operands already differ in
    /// a defined byte, report nothing; the undefined lane and the compare that hinges on undefined
    /// bytes report, at the lines valgrind names for this program (with SSE4.1 gcc extracts the lane
    /// with pextrd instead of a shuffle).
    /// </summary>
    [Theory]
    [InlineData("uninit_vector_moves")]
    [InlineData("uninit_vector_moves.sse41")]
    public void InterleavesShufflesAndEqualityFollowTheDefinedBytes(string binary)
    {
        const string source = "uninit_vector_moves.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        JsonElement[] errors = report.Errors;
        Assert.Equal("b1 is 11\nshuffled b1 is 11\npicked b1 is 11\naligned b1 is 11\nab\ndone\n", report.Run.StdoutText);
        Assert.True(errors.Length == 2, $"expected 2 errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        AssertFrame(UserFrame(errors[0], source), "lanes", source, Line(source, "LINE_LANE"), report.Context);
        AssertFrame(UserFrame(errors[1], source), "words", source, Line(source, "LINE_WORD"), report.Context);
        Assert.All(errors, e => Assert.Equal("a conditional jump depends on undefined flags", Message(e)));
    }

    /// <summary>
    /// Globals loaded and stored while a register holds an undefined value (the propagating mode's
    /// inline moves, with a rip-relative or absolute address computed as a constant, or a
    /// [disp32 + index*8] table without PIE): branches on them report nothing, the undefined value
    /// carried through the loop reports at its line, and the program prints what it does natively.
    /// </summary>
    [Theory]
    [InlineData("uninit_global_moves")]
    [InlineData("uninit_global_moves.nopie")]
    public void GlobalsMovedInThePropagatingMode_KeepTheirDefinedValues(string binary)
    {
        const string source = "uninit_global_moves.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        JsonElement[] errors = report.Errors;
        Assert.Equal("sum is 248\npairs[1].b is 140\ndone\n", report.Run.StdoutText);
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        Assert.Equal("a conditional jump depends on undefined flags", Message(errors[0]));
        AssertFrame(UserFrame(errors[0], source), "main", source, Line(source, "LINE_UNDEFINED"), report.Context);
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>
    /// A bitfield in bits 15..30 read back as GCC does, (w + w) >> 16 through lea or add of a
    /// register with itself: x + x is x &lt;&lt; 1 as under Valgrind (not an add whose carry smears the
    /// never-set low bits upwards), so branches on the field report nothing and the one on the low
    /// bits reports, at the line valgrind names. (Before, cc1plus gave 595 unique reports to
    /// valgrind's 124 contexts; now 231, every top frame but one setcc among valgrind's.)
    /// </summary>
    [Fact]
    public void DoubledWords_ShiftTheirDefinedBits_AsValgrindDoes()
    {
        const string source = "uninit_doubled_fields.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_doubled_fields"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("lea: 1234\nadd: 1234\ndone\n", report.Run.StdoutText);
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        Assert.Equal("a conditional jump depends on undefined flags", Message(errors[0]));
        AssertFrame(UserFrame(errors[0], source), "main", source, Line(source, "LINE_LOW"), report.Context);
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>
    /// Twenty-two arithmetic forms on a byte whose bits 0..7 are undefined, then a branch on bit 20:
    /// the seven valgrind reports (sub, dec, neg, imul, bsf, sbb: a borrow or product reaches every
    /// higher bit; shld: the byte shifted onto bit 20) are memcheck's, at the same lines, and the forms
    /// valgrind takes exactly (add, inc, adc with a defined carry, xadd, lea's sums, popcnt, shifts,
    /// rotates, not, or, bswap, shrd) report nothing.
    /// </summary>
    [Fact]
    public void ArithmeticCarries_DecidedAsValgrindDecidesThem()
    {
        const string source = "uninit_arith_carries.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_arith_carries"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        (string Function, string Marker)[] expected =
            [("t_sub", "LINE_SUB"), ("t_dec", "LINE_DEC"), ("t_neg", "LINE_NEG"), ("t_imul", "LINE_IMUL"), ("t_bsf", "LINE_BSF"), ("t_sbb", "LINE_SBB"),
             ("t_shld", "LINE_SHLD")];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("a conditional jump depends on undefined flags", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), expected[i].Function, source, Line(source, expected[i].Marker), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>
    /// Fifteen SSE operations on a vector with one undefined byte, then a branch on a bit of the
    /// result: valgrind's four reports (paddq's carry, pshufb spreading the byte, psadbw's sum, a
    /// conversion) are memcheck's, at the same lines; shifts by an immediate move the shadow with
    /// the bits (pslldq, psrlw report nothing, as under valgrind).
    /// </summary>
    [Fact]
    public void VectorShiftsAndLanes_DecidedAsValgrindDecidesThem()
    {
        const string source = "uninit_vector_shifts.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_vector_shifts"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        (string Function, string Marker)[] expected =
            [("v_paddq", "LINE_PADDQ"), ("v_pshufb", "LINE_PSHUFB"), ("v_psadbw", "LINE_PSADBW"), ("v_cvt", "LINE_CVT")];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("a conditional jump depends on undefined flags", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), expected[i].Function, source, Line(source, expected[i].Marker), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
    }

    [Fact]
    public void Conversions_TakeOnlyTheElementsTheyConvert()
    {
        const string source = "uninit_conversions.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_conversions"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        (string Function, string Marker)[] expected =
            [("undefined_double", "LINE_UNDEFINED_DOUBLE"), ("undefined_integer", "LINE_UNDEFINED_INTEGER"), ("main", "LINE_UNDEFINED_LOW")];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("a conditional jump depends on undefined flags", Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), expected[i].Function, source, Line(source, expected[i].Marker), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
    }

    [Avx512Fact]
    public void Avx512LoopOverAPartlyInitializedArray_ReportedAtTheBranch()
    {
        const string source = "uninit_avx512.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_avx512"));
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        Assert.Equal("uninitialized", errors[0].GetProperty("kind").GetString());
        AssertFrame(UserFrame(errors[0], source), "main", source, Line(source, "LINE_AVX512"), report.Context);
        Assert.Equal(0, report.Run.ExitCode);
    }

    [Theory]
    [InlineData("uninit_clean", "padding 676 bitfields 2 memcpy 20 strings 209443 calloc 100 doubles 1.500 -2.25 -3.375000e+00\n")]
    [InlineData("uninit_clean.O0", "padding 676 bitfields 2 memcpy 20 strings 209443 calloc 100 doubles 1.500 -2.25 -3.375000e+00\n")]
    [InlineData("uninit_clean_cxx", "300 300 3634\n")]
    public void PartlyInitializedMemoryInCorrectPrograms_NothingReported(string binary, string stdout)
    {
        var report = RunMemcheck(CaseBinaries.Get(binary));
        Assert.True(report.Errors.Length == 0, $"errors: {Describe(report.Errors)}\n{report.Context}");
        Assert.Equal(stdout, report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>
    /// Outputs of system calls outside the everyday ones are defined once the kernel wrote them
    /// (node reported 11 false errors at start-up from capget's data, which the table did not know);
    /// the one buffer nothing fills is still reported, at its use.
    /// </summary>
    [Fact]
    public void WhatTheKernelWritesThroughLessCommonCalls_IsDefined()
    {
        const string source = "uninit_kernel_outputs.c";
        string binary = CaseBinaries.Get("uninit_kernel_outputs");
        var native = ProcessRunner.Run(binary, []);
        var report = RunMemcheck(binary);
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        Assert.Equal("uninitialized", errors[0].GetProperty("kind").GetString());
        AssertFrame(UserFrame(errors[0], source), "use", source, Line(source, "LINE_USE"), report.Context);
        JsonElement caller = errors[0].GetProperty("stack").EnumerateArray().Skip(1).First();
        AssertFrame(caller, "main", source, Line(source, "LINE_CONTROL"), report.Context);
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        // The calls every Linux machine allows; the others (NUMA, file handles, ptrace) as the machine does natively.
        foreach (string call in (string[])["capget", "mincore", "msgrcv", "msgctl", "semctl-getall", "semctl-stat", "shmctl",
                     "io_getevents", "aio-pread", "process_vm_readv", "sched_getattr", "control"])
            Assert.Contains(call + " ", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>
    /// A library dlclose'd and loaded again at another address (its old range taken meanwhile): the
    /// symbolizer kept one per path at the first load's bias, so the second load's error came out as
    /// a bare address. Both reports name the plugin's function and line, and so does the leak it
    /// allocated, reported at exit when the library is unloaded (a bare address, valgrind's "???").
    /// </summary>
    [Fact]
    public void ALibraryLoadedAgainElsewhere_OrUnloaded_IsStillNamed()
    {
        const string source = "reloaded_plugin.c";
        string directory = Scratch.NewDirectory("reloaded");
        string cases = Path.Combine(RepoPaths.Root, "tests", "cases");
        string plugin = Path.Combine(directory, "libreloaded.so"), host = Path.Combine(directory, "reloaded_host");
        var compiled = ProcessRunner.Run("gcc", ["-g", "-O1", "-fPIC", "-shared", "-o", plugin, Path.Combine(cases, source)]);
        Assert.True(compiled.ExitCode == 0, compiled.StderrText);
        compiled = ProcessRunner.Run("gcc", ["-g", "-O1", "-o", host, Path.Combine(cases, "reloaded_host.c"), "-ldl"]);
        Assert.True(compiled.ExitCode == 0, compiled.StderrText);
        var report = RunMemcheckCommand([host, plugin], "--leak-check=full");
        Assert.Equal("loaded at two addresses: 1\n", report.Run.StdoutText);
        JsonElement[] errors = report.Errors;
        // (and a possible leak inside ld.so's dlopen bookkeeping, _dl_find_object's, not the plugin's)
        JsonElement[] uninitialized = errors.Where(e => e.GetProperty("kind").GetString() == "uninitialized").ToArray();
        Assert.True(uninitialized.Length == 2, $"expected 2 uninitialized reads: {Describe(errors)}\n{report.Context}");
        foreach (JsonElement error in uninitialized)
            AssertFrame(UserFrame(error, source), "plugin_step", source, Line(source, "LINE_PLUGIN_BRANCH"), report.Context);
        JsonElement leak = errors.Single(e => e.GetProperty("kind").GetString() == "leak");
        AssertFrame(UserFrame(leak, source), "plugin_keep", source, Line(source, "LINE_PLUGIN_LEAK"), report.Context);
    }

    /// <summary>
    /// ZF after or/xor is defined by a defined 1 bit of the result, as Valgrind's exact CmpNE has it
    /// (`x == K &amp;&amp; y == 0` as xor/or/jne with x known not K); the same branch where x is K depends
    /// on y and is reported: valgrind's one error, at its line.
    /// </summary>
    [Fact]
    public void ZeroFlagOfOrAndXor_DefinedByADefinedOneBit()
    {
        const string source = "uninit_zero_flag_logic.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_zero_flag_logic"));
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        JsonElement caller = errors[0].GetProperty("stack").EnumerateArray().First(f => f.TryGetProperty("function", out var name) && name.GetString() == "main");
        AssertFrame(caller, "main", source, Line(source, "LINE_DECIDED_BY_FLAGS"), report.Context);
        Assert.Equal("or 1 xor 1\ncontrol 1\n", report.Run.StdoutText);
    }

    [Fact]
    public void CheckUninitializedNo_OnlyAddressability()
    {
        var report = RunMemcheck(CaseBinaries.Get("uninit_uses"), "--check-uninitialized=no");
        Assert.True(report.Errors.Length == 0, $"errors: {Describe(report.Errors)}\n{report.Context}");
        Assert.Equal("done\n", report.Run.StdoutText);
    }

    /// <summary>
    /// Memory a system call would read or write that the program may not touch, from the engine's
    /// syscall table: a freed buffer to write(), a NULL iovec array and a freed iovec to writev(),
    /// a NULL socklen pointer, a NULL execve path, read() past a block's end; each an unaddressable
    /// access naming the parameter as Valgrind does, at the caller's line; the calls behave as natively.
    /// </summary>
    [Fact]
    public void SystemCallParameters_UnaddressableMemoryReported()
    {
        const string source = "syscall_params.c";
        var report = RunMemcheck(CaseBinaries.Get("syscall_params"));
        string context = report.Context;
        JsonElement[] errors = report.Errors;
        Assert.Equal("16 -1 16 -1 -1 8\n", report.Run.StdoutText);
        (string Marker, string Words, string? Block)[] expected =
        [
            ("LINE_FREED_WRITE", "write parameter buf points to unaddressable memory at 0x", "freed"),
            ("LINE_NULL_IOVEC", "writev parameter vector points to unaddressable memory at 0x0", null),
            ("LINE_FREED_IOVEC", "writev parameter vector[1] points to unaddressable memory at 0x", "freed"),
            ("LINE_NULL_SOCKLEN", "getsockname parameter usockaddr_len points to unaddressable memory at 0x0", null),
            ("LINE_NULL_EXECVE", "execve parameter filename points to unaddressable memory at 0x0", null),
            ("LINE_READ_PAST", "read parameter buf points to unaddressable memory at 0x", "allocated"),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (marker, words, block) = expected[i];
            Assert.Equal("unaddressable", errors[i].GetProperty("kind").GetString());
            Assert.True(Message(errors[i]).Contains(words, StringComparison.Ordinal), $"error {i + 1}: expected \"{words}\", got \"{Message(errors[i])}\"\n{context}");
            AssertFrame(UserFrame(errors[i], source), "main", source, Line(source, marker), context);
            Assert.Equal(block != null, errors[i].TryGetProperty("block", out JsonElement b));
            if (block != null) Assert.Equal(block, b.GetProperty("state").GetString());
        }
    }

    /// <summary>
    /// A 32-bit system call argument passed as syscall()'s stack argument, stored with 4 bytes: the
    /// register's undefined upper half is not reported (futex's val3 is a u32, as Valgrind types it:
    /// Chromium's FUTEX_WAIT_BITSET calls were reported), a val3 with an undefined low half is.
    /// </summary>
    [Fact]
    public void ThirtyTwoBitSystemCallArguments_OnlyTheirLowHalfMustBeDefined()
    {
        const string source = "syscall_int_args.c";
        var report = RunMemcheck(CaseBinaries.Get("syscall_int_args"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("woken 0\n", report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        JsonElement error = Assert.Single(errors);
        Assert.Equal("uninitialized", error.GetProperty("kind").GetString());
        Assert.Equal("futex parameter val3 (r9) is undefined", Message(error));
        AssertFrame(UserFrame(error, source), "wake", source, Line(source, "LINE_CALL"), report.Context);
        JsonElement caller = error.GetProperty("stack").EnumerateArray().First(f => f.TryGetProperty("function", out JsonElement name) && name.GetString() == "main");
        AssertFrame(caller, "main", source, Line(source, "LINE_UNDEFINED"), report.Context);
    }

    /// <summary>
    /// perf_event_open reads its attr as far as attr->size says (the tail past the first version's
    /// 64 bytes left undefined is reported, as Valgrind reports it); seccomp's
    /// SECCOMP_GET_ACTION_AVAIL reads a u32, SECCOMP_SET_MODE_FILTER a struct sock_fprog (an unset
    /// len) and its program (Valgrind does not handle seccomp). Defined ones are not.
    /// </summary>
    [Fact]
    public void StructuresSizedByTheirOwnFieldsOrByOperation_Checked()
    {
        const string source = "syscall_structs_sized.c";
        var report = RunMemcheck(CaseBinaries.Get("syscall_structs_sized"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("done 1\n", report.Run.StdoutText);
        (string Marker, string Words)[] expected =
        [
            ("LINE_PERF", "perf_event_open parameter attr_uptr[64.."),
            ("LINE_SECCOMP", "seccomp parameter uargs[0..3] is undefined (4 of its 4 bytes"),
            ("LINE_FILTER", "seccomp parameter uargs.len[0..1] is undefined (2 of its 2 bytes"),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            Assert.StartsWith(expected[i].Words, Message(errors[i]));
            AssertFrame(UserFrame(errors[i], source), "main", source, Line(source, expected[i].Marker), report.Context);
        }
    }

    /// <summary>--track-origins=yes: each report names the heap block the undefined value was read from, with its allocation line.</summary>
    [Fact]
    public void TrackOrigins_NamesTheHeapBlockTheValueCameFrom()
    {
        const string source = "uninit_uses.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_uses.O2"), "--track-origins=yes");
        string context = report.Context;
        JsonElement[] errors = report.Errors;
        (string Allocation, int Size)[] expected =
        [
            ("ALLOC_HEAP_BRANCH", 16), ("ALLOC_INDEX", 1), ("ALLOC_ARITH", 8), ("ALLOC_DOUBLE", 16), ("ALLOC_REALLOC", 64), ("ALLOC_WRITE", 10),
        ];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(errors[i].TryGetProperty("block", out JsonElement block), $"error {i + 1} has no origin: {Message(errors[i])}\n{context}");
            Assert.Equal(expected[i].Size, block.GetProperty("size").GetInt32());
            Assert.Contains($"it came from the {expected[i].Size}-byte heap block at 0x", Message(errors[i]));
            AssertFrame(UserFrame(WithStack(block), source), FunctionOf(UserFrame(errors[i], source)), source, Line(source, expected[i].Allocation), context);
        }
    }

    /// <summary>
    /// --track-origins=yes, one use site reached with two different stacks: both errors name their
    /// own block (the origin was looked up once per site, and the second error named none).
    /// </summary>
    [Fact]
    public void TrackOrigins_EachErrorAtASharedSiteNamesItsOwnBlock()
    {
        const string source = "uninit_origin_per_stack.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_origin_per_stack"), "--track-origins=yes");
        string context = report.Context;
        JsonElement[] errors = report.Errors;
        (string Caller, string Allocation, int Size)[] expected = [("first", "ALLOC_FIRST", 16), ("second", "ALLOC_SECOND", 24)];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{context}");
        for (int i = 0; i < expected.Length; i++)
        {
            AssertFrame(errors[i].GetProperty("stack")[0], "check", source, Line(source, "LINE_USE"), context);
            Assert.True(errors[i].TryGetProperty("block", out JsonElement block), $"error {i + 1} has no origin: {Message(errors[i])}\n{context}");
            Assert.Equal(expected[i].Size, block.GetProperty("size").GetInt32());
            AssertFrame(UserFrame(WithStack(block), source), expected[i].Caller, source, Line(source, expected[i].Allocation), context);
        }
    }

    /// <summary>
    /// --track-origins=yes for values copied out of blocks that were freed and left the delayed
    /// frees: each report names the block the value was read from and its allocation, "freed since"
    /// (one named no origin, the other the block that reused its memory).
    /// </summary>
    [Fact]
    public void TrackOrigins_AValueFromABlockFreedSinceNamesThatBlock()
    {
        const string source = "uninit_origin_freed.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_origin_freed"), "--track-origins=yes", "--delay-frees=0");
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        (string Use, string Allocation, int Size)[] expected = [("LINE_USE", "LINE_ALLOC", 32), ("LINE_USE_REUSED", "LINE_ALLOC_REUSED", 48)];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
        {
            AssertFrame(UserFrame(errors[i], source), "main", source, Line(source, expected[i].Use), report.Context);
            Assert.EndsWith($"-byte heap block at 0x{errors[i].GetProperty("block").GetProperty("address").GetString()?[2..]}, freed since", Message(errors[i]));
            JsonElement block = errors[i].GetProperty("block");
            Assert.Equal(expected[i].Size, block.GetProperty("size").GetInt32());
            AssertFrame(UserFrame(WithStack(block), source), "main", source, Line(source, expected[i].Allocation), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>
    /// --track-origins=yes for a value made from a local of a function that has returned when it is
    /// used: the frame is the one the bytes were read from (it named main, whose frame held that
    /// memory by the time of the report).
    /// </summary>
    /// <summary>
    /// Undefined values kept outside the heap and the stack, read back and branched on: in an
    /// anonymous mapping, a global through a pointer, a global RIP-relative, a static made undefined
    /// by a client request, a thread-local; Valgrind 3.19 reports these five lines. A global made defined again by a
    /// RIP-relative store is not reported, nor is TLS overwritten fs-relative or a mapping given back
    /// with madvise(MADV_DONTNEED). Before, a store anywhere but the heap and the stack defined.
    /// </summary>
    [Fact]
    public void UndefinedValuesKeptInMappingsAndGlobalsAreReported()
    {
        const string source = "uninit_outside_heap.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_outside_heap"));
        JsonElement[] errors = report.Errors;
        Assert.Equal("defined again\ntls\nzeroed\n", report.Run.StdoutText);
        Assert.True(errors.Length == 5, $"expected 5 errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        string[] lines = ["LINE_MAPPED", "LINE_POINTER", "LINE_RIP", "LINE_REQUEST", "LINE_TLS"];
        for (int i = 0; i < lines.Length; i++)
        {
            Assert.Equal("uninitialized", errors[i].GetProperty("kind").GetString());
            AssertFrame(UserFrame(errors[i], source), "main", source, Line(source, lines[i]), report.Context);
        }
        Assert.Equal(0, report.Run.ExitCode);
    }

    [Fact]
    public void TrackOrigins_AFrameThatHasReturnedIsStillNamed()
    {
        const string source = "uninit_origin_returned.c";
        var report = RunMemcheck(CaseBinaries.Get("uninit_origin_returned"), "--track-origins=yes");
        JsonElement[] errors = report.Errors;
        Assert.Equal("done\n", report.Run.StdoutText);
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        AssertFrame(UserFrame(errors[0], source), "main", source, Line(source, "LINE_USE"), report.Context);
        Assert.EndsWith("; it came from a stack frame of owner", Message(errors[0]));
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>
    /// --track-origins=yes in a stripped program: the frame the value came from has no name, so the
    /// report names its code as module+offset, a pc inside the function that owns the frame.
    /// </summary>
    [Fact]
    public void TrackOrigins_AFrameWithoutASymbolIsNamedByModuleAndOffset()
    {
        string binary = CaseBinaries.Get("uninit_origin_stripped");
        var report = RunMemcheck(binary, "--track-origins=yes");
        JsonElement[] errors = report.Errors;
        Assert.Equal("1\n", report.Run.StdoutText);
        Assert.True(errors.Length == 1, $"expected 1 error, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        string message = Message(errors[0]);
        var match = System.Text.RegularExpressions.Regex.Match(message, @"; it came from a stack frame at uninit_origin_stripped\+0x([0-9a-f]+)$");
        Assert.True(match.Success, $"origin not named by module+offset: {message}\n{report.Context}");
        ulong offset = Convert.ToUInt64(match.Groups[1].Value, 16);
        var nm = ProcessRunner.Run("nm", ["-S", CaseBinaries.Get("uninit_origin_stripped.symbols")], timeout: TimeSpan.FromSeconds(60));
        string[] owner = nm.StdoutText.Split('\n').Select(l => l.Split(' ')).Single(f => f.Length == 4 && f[3] == "owner");
        ulong start = Convert.ToUInt64(owner[0], 16), size = Convert.ToUInt64(owner[1], 16);
        Assert.True(offset >= start && offset < start + size, $"0x{offset:x} is not in owner [0x{start:x}, 0x{start + size:x})\n{report.Context}");
        Assert.Equal(0, report.Run.ExitCode);
    }

    /// <summary>--track-origins=yes for stack memory: each report names the function whose frame held the undefined bytes.</summary>
    [Theory]
    [InlineData("uninit_stack")]
    [InlineData("uninit_stack.O2")]
    public void TrackOrigins_NamesTheStackFrameTheValueCameFrom(string binary)
    {
        var report = RunMemcheck(CaseBinaries.Get(binary), "--track-origins=yes");
        JsonElement[] errors = report.Errors;
        string[] expected = ["local_on_one_path", "partly_filled_array", "record_with_holes"];
        Assert.True(errors.Length == expected.Length, $"expected {expected.Length} errors, got {errors.Length}: {Describe(errors)}\n{report.Context}");
        for (int i = 0; i < expected.Length; i++)
            Assert.EndsWith($"; it came from a stack frame of {expected[i]}", Message(errors[i]));
    }

    /// <summary>The block's allocation stack as an element with a "stack" property (for <see cref="UserFrame"/>).</summary>
    private static JsonElement WithStack(JsonElement block) =>
        JsonDocument.Parse($"{{\"stack\": {block.GetProperty("alloc_stack").GetRawText()}}}").RootElement;
}
