using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.Tests.EndToEnd;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Heap;

/// <summary>
/// --tool memcheck checks every memory access inline: accesses beyond a heap block, into a freed
/// block, through a stale pointer after realloc, past aligned blocks, inside the replaced copy
/// routines and below the stack pointer are reported as unaddressable, checked here through the
/// --json report (kind, message, access, block and the innermost frame in the case's own source),
/// and clean programs that exercise the usual false-positive traps report nothing.
/// </summary>
public class AccessErrorTests
{
    private static string Message(JsonElement error) => error.GetProperty("message").GetString()!;

    private static JsonElement Frame(JsonElement error, int index) => error.GetProperty("stack")[index];

    /// <summary>Kind, message words, access and count of one error; returns the access address.</summary>
    private static ulong AssertAccessError(
        JsonElement error, string detail, string type, int size, string where, string context, int count = 1)
    {
        string message = Message(error);
        string verb = type == "read" ? "reading" : "writing";
        Assert.True(
            error.GetProperty("kind").GetString() == "unaddressable"
                && message.StartsWith(detail + ": ", StringComparison.Ordinal)
                && message.Contains($"{verb} {size} byte(s) at ", StringComparison.Ordinal)
                && message.Contains(where, StringComparison.Ordinal),
            $"expected an unaddressable error \"{detail}: {verb} {size} byte(s) at 0x.. {where}\", got " +
            $"{error.GetProperty("kind").GetString()} \"{message}\"\n{context}");
        JsonElement access = error.GetProperty("access");
        Assert.Equal(type, access.GetProperty("type").GetString());
        Assert.Equal(size, access.GetProperty("size").GetInt32());
        ulong address = Address(access.GetProperty("address"));
        Assert.Contains($"at 0x{address:x} ", message);
        Assert.True(error.GetProperty("count").GetInt32() == count,
            $"expected count {count}, got {error.GetProperty("count").GetInt32()}: {message}\n{context}");
        return address;
    }

    /// <summary>The heap block of an error: its state, requested size and allocation site; returns its address.</summary>
    private static ulong AssertBlock(JsonElement error, string state, int size, string source, string allocMarker, string context)
    {
        Assert.True(error.TryGetProperty("block", out JsonElement block), $"no block in \"{Message(error)}\"\n{context}");
        Assert.Equal(state, block.GetProperty("state").GetString());
        Assert.Equal(size, block.GetProperty("size").GetInt32());
        AssertFrame(block.GetProperty("alloc_stack")[0], "main", source, Line(source, allocMarker), context);
        Assert.Equal(state == "freed", block.TryGetProperty("free_stack", out _));
        return Address(block.GetProperty("address"));
    }

    private static void AssertTotals(MemcheckReport report, int unique, int total)
    {
        JsonElement summary = report.Root.GetProperty("summary");
        Assert.Equal(unique, summary.GetProperty("unique").GetInt32());
        Assert.Equal(total, summary.GetProperty("total").GetInt32());
        JsonElement unaddressable = summary.GetProperty("kinds").GetProperty("unaddressable");
        Assert.Equal(unique, unaddressable.GetProperty("unique").GetInt32());
        Assert.Equal(total, unaddressable.GetProperty("total").GetInt32());
    }

    private static JsonElement[] ExpectErrors(MemcheckReport report, int count, string stdout)
    {
        JsonElement[] errors = report.Errors;
        string context = report.Context;
        Assert.True(errors.Length == count,
            $"expected {count} errors, got {errors.Length}: {string.Join(" | ", errors.Select(Message))}\n{context}");
        Assert.Equal(stdout, report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal(0, report.Root.GetProperty("exit_code").GetInt32());
        return errors;
    }

    [Theory]
    [InlineData("heap_overflow_underflow")]
    [InlineData("heap_overflow_underflow.O2")]     // -fomit-frame-pointer
    [InlineData("heap_overflow_underflow.static")]
    public void OneByteBeyondAndBeforeAHeapBlock_ReadAndWrite(string binary)
    {
        const string source = "heap_overflow_underflow.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 4, "sum 45\n");

        (string Type, string Where, string Marker, long Offset)[] expected =
        [
            ("read", "0 byte(s) beyond a 10-byte block", "LINE_READ_AFTER", 10),
            ("write", "0 byte(s) beyond a 10-byte block", "LINE_WRITE_AFTER", 10),
            ("read", "1 byte(s) before a 10-byte block", "LINE_READ_BEFORE", -1),
            ("write", "1 byte(s) before a 10-byte block", "LINE_WRITE_BEFORE", -1),
        ];
        ulong? firstBlock = null;
        for (int i = 0; i < expected.Length; i++)
        {
            var (type, where, marker, offset) = expected[i];
            ulong address = AssertAccessError(errors[i], "beyond heap bounds", type, 1, where, context);
            AssertFrame(Frame(errors[i], 0), "main", source, Line(source, marker), context);
            ulong block = AssertBlock(errors[i], "allocated", 10, source, "LINE_ALLOC", context);
            Assert.Equal(block + (ulong)offset, address);
            firstBlock ??= block;
            Assert.Equal(firstBlock, block);
        }
        AssertTotals(report, 4, 4);
        Assert.Contains("Error #1: UNADDRESSABLE ACCESS beyond heap bounds: reading 1 byte(s)", report.Run.StderrText);
        Assert.Contains("Error #4: UNADDRESSABLE ACCESS beyond heap bounds: writing 1 byte(s)", report.Run.StderrText);
    }

    /// <summary>
    /// A pop of a heap block's redzone (rsp moved onto the block's end) inside a held-scratch run: the
    /// pop probe (not skipped while a register is held) sends it to the propagating mode, whose checked
    /// pop reports it in the assembly function, as Valgrind does; nothing else is reported.
    /// </summary>
    [Fact]
    public void PopBeyondAHeapBlock_InsideAHeldScratchRun()
    {
        const string source = "heap_pop_held.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_pop_held"));
        string context = report.Context;
        JsonElement error = Assert.Single(ExpectErrors(report, 1, "popped a word\n"));
        ulong address = AssertAccessError(error, "beyond heap bounds", "read", 8, "0 byte(s) beyond a 16-byte block", context);
        Assert.Equal("pop_past", FunctionOf(Frame(error, 0)));
        ulong block = AssertBlock(error, "allocated", 16, source, "LINE_ALLOC", context);
        Assert.Equal(block + 16, address);
    }

    [Fact]
    public void UseAfterFree_AfterAThousandOtherAllocations()
    {
        const string source = "heap_use_after_free.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_use_after_free"));
        string context = report.Context;
        JsonElement error = ExpectErrors(report, 1, "churn 109111\n")[0];

        ulong address = AssertAccessError(error, "of freed memory", "read", 4, "8 byte(s) into a 40-byte block", context);
        AssertFrame(Frame(error, 0), "main", source, Line(source, "LINE_READ"), context);
        ulong block = AssertBlock(error, "freed", 40, source, "LINE_ALLOC", context);
        Assert.Equal(block + 8, address);
        AssertFrame(error.GetProperty("block").GetProperty("free_stack")[0], "main", source, Line(source, "LINE_FREE"), context);
        AssertTotals(report, 1, 1);
    }

    [Fact]
    public void StalePointerAfterRealloc_OneErrorCountedEachTime()
    {
        const string source = "heap_realloc_stale.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_realloc_stale"));
        string context = report.Context;
        JsonElement error = ExpectErrors(report, 1, "kept 16\n")[0];

        // The loop reads old[0], old[1], old[2] from one instruction: one error, the first occurrence's message.
        ulong address = AssertAccessError(error, "of freed memory", "read", 1, "0 byte(s) into a 16-byte block", context, count: 3);
        AssertFrame(Frame(error, 0), "main", source, Line(source, "LINE_STALE"), context);
        ulong block = AssertBlock(error, "freed", 16, source, "LINE_ALLOC", context);
        Assert.Equal(block, address);
        AssertFrame(error.GetProperty("block").GetProperty("free_stack")[0], "main", source, Line(source, "LINE_REALLOC"), context);
        AssertTotals(report, 1, 3);
    }

    [Fact]
    public void OneBytePastAlignedBlocks()
    {
        const string source = "heap_aligned_overflow.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_aligned_overflow"));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 2, "rc 0 aligned 1 1\n");

        ulong address = AssertAccessError(errors[0], "beyond heap bounds", "write", 1, "0 byte(s) beyond a 100-byte block", context);
        AssertFrame(Frame(errors[0], 0), "main", source, Line(source, "LINE_POSIX_WRITE"), context);
        ulong block = AssertBlock(errors[0], "allocated", 100, source, "LINE_POSIX_ALLOC", context);
        Assert.Equal(block + 100, address);
        Assert.Equal(0UL, block % 64);

        address = AssertAccessError(errors[1], "beyond heap bounds", "write", 1, "0 byte(s) beyond a 512-byte block", context);
        AssertFrame(Frame(errors[1], 0), "main", source, Line(source, "LINE_ALIGNED_WRITE"), context);
        block = AssertBlock(errors[1], "allocated", 512, source, "LINE_ALIGNED_ALLOC", context);
        Assert.Equal(block + 512, address);
        Assert.Equal(0UL, block % 256);
        AssertTotals(report, 2, 2);
    }

    /// <summary>
    /// The stack of an error inside a replaced routine: the routine's frame (the libc function,
    /// marked replaced, with no module or source of memcheck's), then the caller's line in the case.
    /// </summary>
    private static void AssertThroughRoutine(JsonElement error, string routine, string source, string marker, string context)
    {
        JsonElement[] stack = error.GetProperty("stack").EnumerateArray().ToArray();
        int caller = Array.FindIndex(stack, f => f.TryGetProperty("file", out var file) && file.GetString() == Path.Combine(RepoPaths.Cases, source));
        string frames = $"stack: {Describe(error.GetProperty("stack"))}\n{context}";
        Assert.True(caller == 1 && FunctionOf(stack[0]) == routine,
            $"expected {routine} as the only frame above the caller in {source}\n{frames}");
        Assert.True(stack[0].TryGetProperty("replaced", out var replaced) && replaced.GetBoolean() && !stack[0].TryGetProperty("module", out _),
            $"{routine} is not shown as the replaced libc function\n{frames}");
        AssertFrame(stack[caller], "main", source, Line(source, marker), frames);
    }

    [Theory]
    [InlineData("string_overflow")]
    [InlineData("string_overflow.O2")]     // -fomit-frame-pointer: main found through CFI from the routine
    public void OverflowInsideMemcpyAndStrcpy_StackRunsThroughTheRoutine(string binary)
    {
        const string source = "string_overflow.c";
        var report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 2, "0123456789 0123456789\n");

        ulong address = AssertAccessError(errors[0], "beyond heap bounds", "write", 1, "0 byte(s) beyond a 10-byte block", context);
        AssertThroughRoutine(errors[0], "memcpy", source, "LINE_MEMCPY", context);
        ulong block = AssertBlock(errors[0], "allocated", 10, source, "LINE_MEMCPY_ALLOC", context);
        Assert.Equal(block + 10, address);

        address = AssertAccessError(errors[1], "beyond heap bounds", "write", 1, "0 byte(s) beyond a 10-byte block", context);
        AssertThroughRoutine(errors[1], "strcpy", source, "LINE_STRCPY", context);
        block = AssertBlock(errors[1], "allocated", 10, source, "LINE_STRCPY_ALLOC", context);
        Assert.Equal(block + 10, address);
        AssertTotals(report, 2, 2);
    }

    [Fact]
    public void ReadEightKilobytesBelowTheStackPointer()
    {
        const string source = "stack_below_sp.c";
        var report = RunMemcheck(CaseBinaries.Get("stack_below_sp"));
        string context = report.Context;
        JsonElement error = ExpectErrors(report, 1, "deep 1 peek 1\n")[0];

        AssertAccessError(error, "beyond top of stack", "read", 1, "byte(s) below the stack pointer", context);
        // peek() is a leaf at -O0: its locals sit in the red zone just below rsp, 8 KB above the read.
        Match distance = Regex.Match(Message(error), @"(\d+) byte\(s\) below the stack pointer");
        long below = long.Parse(distance.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(below >= 8192 && below <= 8192 + 128, $"{below} bytes below the stack pointer, expected 8 KB and a few\n{context}");
        Assert.False(error.TryGetProperty("block", out _), $"a stack error has no block\n{context}");
        AssertFrame(Frame(error, 0), "peek", source, Line(source, "LINE_BELOW"), context);
        AssertFrame(Frame(error, 1), "main", source, Line(source, "LINE_CALL"), context);
        AssertTotals(report, 1, 1);
    }

    [Avx512Fact]
    public void GatherAndScatterLanesBeyondABlock_MaskedOffLanesAreNot()
    {
        // AVX2 gather (mask vector) and AVX-512 scatter (k mask): each active lane is an access.
        const string source = "heap_gather_overflow.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_gather_overflow"));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 2, "gather 1 masked 21 scattered 7\n");

        ulong address = AssertAccessError(errors[0], "beyond heap bounds", "read", 4, "0 byte(s) beyond a 40-byte block", context);
        AssertCaseFrame(errors[0], "gather_sum", source, "LINE_GATHER", context);
        Assert.Equal(AssertBlock(errors[0], "allocated", 40, source, "LINE_TABLE_ALLOC", context) + 40, address);

        address = AssertAccessError(errors[1], "beyond heap bounds", "write", 8, "0 byte(s) beyond a 64-byte block", context);
        AssertCaseFrame(errors[1], "scatter", source, "LINE_SCATTER", context);
        Assert.Equal(AssertBlock(errors[1], "allocated", 64, source, "LINE_WIDE_ALLOC", context) + 64, address);
        AssertTotals(report, 2, 2);
    }

    [Fact]
    public void StringInstructionsAreCheckedOverWhatTheyTouch_BackwardsAndUpToTheMatch()
    {
        // std; rep movsb reading one byte before its source; repe cmpsb comparing one byte past a
        // block. Clean: std; rep stosb inside a block, an early-stopping repe cmpsb with count 1000,
        // repne scasb.
        const string source = "string_instructions.c";
        var report = RunMemcheck(CaseBinaries.Get("string_instructions"));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 2, "block xss clean 995 over 7 find 63\n");

        ulong address = AssertAccessError(errors[0], "beyond heap bounds", "read", 17, "1 byte(s) before a 16-byte block", context);
        AssertFrame(Frame(errors[0], 0), "copy_backwards", source, Line(source, "LINE_MOVS"), context);
        Assert.Equal(AssertBlock(errors[0], "allocated", 16, source, "LINE_SRC_ALLOC", context) - 1, address);

        address = AssertAccessError(errors[1], "beyond heap bounds", "read", 17, "0 byte(s) beyond a 16-byte block", context);
        AssertFrame(Frame(errors[1], 0), "compare", source, Line(source, "LINE_CMPS"), context);
        Assert.Equal(AssertBlock(errors[1], "allocated", 16, source, "LINE_A_ALLOC", context), address);
        AssertTotals(report, 2, 2);
    }

    [Fact]
    public void RepStosAndMovs_SmallCountsCheckedInTheirStub_StillReportAtTheirLine()
    {
        // Small rep stos/movs are taken a shadow qword at a time in their stub (RepeatedAccessCheck);
        // every one here crosses into a redzone or a freed block by a byte or a qword, or runs
        // backwards, so the stub must hand it to the routine, which reports it at the rep instruction.
        const string source = "heap_rep_strings.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_rep_strings"));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 8, "clean 8853 8881 css\n");

        (string Function, string RepMarker, string CallMarker, string Type, int Size, string Where, string Detail, int Block, string AllocMarker, long Offset)[] expected =
        [
            ("fill_qwords", "LINE_STOSQ", "LINE_Q", "write", 24, "0 byte(s) beyond a 16-byte block", "beyond heap bounds", 16, "LINE_Q_ALLOC", 0),
            ("fill_bytes", "LINE_STOSB", "LINE_C", "write", 14, "0 byte(s) beyond a 13-byte block", "beyond heap bounds", 13, "LINE_C_ALLOC", 0),
            ("fill_qwords", "LINE_STOSQ", "LINE_L", "write", 40, "0 byte(s) beyond a 36-byte block", "beyond heap bounds", 36, "LINE_L_ALLOC", 0),
            ("copy_bytes", "LINE_MOVSB", "LINE_S", "read", 11, "0 byte(s) beyond a 10-byte block", "beyond heap bounds", 10, "LINE_S_ALLOC", 0),
            ("fill_qwords", "LINE_STOSQ", "LINE_F", "write", 16, "16 byte(s) into a 40-byte block", "of freed memory", 40, "LINE_F_ALLOC", 16),
            // Downwards from w + 16: the range starts at w + 8 (upwards it would start at w + 16).
            ("fill_qwords_backwards", "LINE_STD", "LINE_W", "write", 16, "0 byte(s) beyond a 16-byte block", "beyond heap bounds", 16, "LINE_W_ALLOC", 8),
            // Downwards from w: [w - 8, w + 8), which upwards would be clean.
            ("fill_qwords_backwards", "LINE_STD", "LINE_W_BELOW", "write", 16, "8 byte(s) before a 16-byte block", "beyond heap bounds", 16, "LINE_W_ALLOC", -8),
        ];
        for (int i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            ulong address = AssertAccessError(errors[i], e.Detail, e.Type, e.Size, e.Where, context);
            AssertFrame(Frame(errors[i], 0), e.Function, source, Line(source, e.RepMarker), context);
            AssertFrame(Frame(errors[i], 1), "main", source, Line(source, e.CallMarker), context);
            Assert.Equal(AssertBlock(errors[i], e.Detail == "of freed memory" ? "freed" : "allocated", e.Block, source, e.AllocMarker, context) + (ulong)e.Offset, address);
        }
        // Undefined bytes copied by rep movsq stay undefined: reported where a branch uses them.
        Assert.Equal("uninitialized", errors[7].GetProperty("kind").GetString());
        Assert.Contains("conditional jump", Message(errors[7]));
        AssertFrame(Frame(errors[7], 0), "main", source, Line(source, "LINE_COPIED_UNDEFINED"), context);
    }

    [Fact]
    public void AFiveHundredTwelveByteFxsaveIsCheckedWhole_XsaveByItsHeader()
    {
        const string source = "heap_fxsave.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_fxsave"));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 1, "mxcsr saved xstate_bv 2\n");

        ulong address = AssertAccessError(errors[0], "beyond heap bounds", "write", 512, "0 byte(s) beyond a 508-byte block", context);
        AssertCaseFrame(errors[0], "main", source, "LINE_FXSAVE", context);
        Assert.Equal(AssertBlock(errors[0], "allocated", 508, source, "LINE_ALLOC", context), address);
        AssertTotals(report, 1, 1);
    }

    [Fact]
    public void MaskedMovesCheckOnlyTheSelectedLanes()
    {
        // vmaskmovps: a 5-lane mask on a 5-float block is clean, a 6-lane one reaches past it.
        const string source = "heap_masked_moves.c";
        var report = RunMemcheck(CaseBinaries.Get("heap_masked_moves"));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 2, "clean 3.0 over 5.0\n");

        AssertAccessError(errors[0], "beyond heap bounds", "write", 32, "0 byte(s) beyond a 20-byte block", context);
        AssertCaseFrame(errors[0], "store_and_load", source, "LINE_MASKSTORE", context);
        AssertBlock(errors[0], "allocated", 20, source, "LINE_ALLOC", context);
        AssertAccessError(errors[1], "beyond heap bounds", "read", 32, "0 byte(s) beyond a 20-byte block", context);
        AssertCaseFrame(errors[1], "store_and_load", source, "LINE_MASKLOAD", context);
        AssertTotals(report, 2, 2);
    }

    /// <summary>The innermost frame in the case's own source (an intrinsic's header frame may be inlined inside it).</summary>
    private static void AssertCaseFrame(JsonElement error, string function, string source, string marker, string context)
    {
        JsonElement[] stack = error.GetProperty("stack").EnumerateArray().ToArray();
        int index = Array.FindIndex(stack, f => f.TryGetProperty("file", out var file) && file.GetString() == Path.Combine(RepoPaths.Cases, source));
        Assert.True(index >= 0, $"no frame in {source}: {Describe(error.GetProperty("stack"))}\n{context}");
        AssertFrame(stack[index], function, source, Line(source, marker), context);
    }

    [Fact]
    public void ReadThroughAPointerIntoAReturnedFrame()
    {
        // 100 small frames pushed and popped by inline-tracked sub/add rsp, imm.
        const string source = "stack_stale_frame.c";
        var report = RunMemcheck(CaseBinaries.Get("stack_stale_frame"));
        string context = report.Context;
        JsonElement error = ExpectErrors(report, 1, "sum 10201 stale 0\n")[0];

        AssertAccessError(error, "beyond top of stack", "read", 1, "byte(s) below the stack pointer", context);
        Match distance = Regex.Match(Message(error), @"(\d+) byte\(s\) below the stack pointer");
        long below = long.Parse(distance.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(below > 100 * 48, $"{below} bytes below the stack pointer, expected 100 frames' worth\n{context}");
        AssertFrame(Frame(error, 0), "main", source, Line(source, "LINE_STALE"), context);
        AssertTotals(report, 1, 1);
    }

    /// <summary>
    /// Frames of 288 to 456 bytes, tracked inline (not by the stack routine): nested ones written and
    /// read are clean, every new one is undefined again, and one that has returned is beyond the top.
    /// </summary>
    [Fact]
    public void BigFramesAreTrackedAsSmallOnes()
    {
        const string source = "stack_big_frames.c";
        var report = RunMemcheck(CaseBinaries.Get("stack_big_frames"));
        string context = report.Context;
        JsonElement[] errors = ExpectErrors(report, 2, "sum 1275 big 1 kept 7 stale 1\n");

        Assert.True(errors[0].GetProperty("kind").GetString() == "uninitialized", context);
        Assert.Equal(3, errors[0].GetProperty("count").GetInt32());
        AssertFrame(Frame(errors[0], 0), "main", source, Line(source, "LINE_UNINIT"), context);
        AssertAccessError(errors[1], "beyond top of stack", "read", 1, "byte(s) below the stack pointer", context);
        AssertFrame(Frame(errors[1], 0), "main", source, Line(source, "LINE_STALE"), context);
    }

    /// <summary>
    /// A 2-byte compare and a 2-byte store beside never-written padding enter their shared exact-lane
    /// test 32,768 and 8,192 times: each site then gets a test of its own in a fresh translation
    /// (--stats counts them), and through it still reports the overflowing read and write at their
    /// lines, the compare of a never-written key, and nothing once the key is written.
    /// </summary>
    [Fact]
    public void SitesGivenTheirOwnLaneTest_StillReportWhatTheSharedOneDid()
    {
        const string source = "hot_lane_sites.c";
        var report = RunMemcheck(CaseBinaries.Get("hot_lane_sites"), "--stats");
        string context = report.Context;
        Assert.Equal("fives 4\npast 0\nfresh 0\nset 1\n", report.Run.StdoutText);
        Match promoted = Regex.Match(report.Run.StderrText, @"^memcheck: +lane tests made per-site +([0-9]+)$", RegexOptions.Multiline);
        Assert.True(promoted.Success && int.Parse(promoted.Groups[1].Value, CultureInfo.InvariantCulture) >= 2, context);
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 3, $"expected 3 errors, got {errors.Length}\n{context}");
        AssertAccessError(errors[0], "beyond heap bounds", "read", 2, "0 byte(s) beyond a 65536-byte block", context);
        AssertFrame(Frame(errors[0], 0), "is_five", source, Line(source, "LINE_FIVE"), context);
        AssertAccessError(errors[1], "beyond heap bounds", "write", 2, "0 byte(s) beyond a 65536-byte block", context);
        AssertFrame(Frame(errors[1], 0), "set_key", source, Line(source, "LINE_SET"), context);
        Assert.Equal("uninitialized", errors[2].GetProperty("kind").GetString());
        AssertFrame(Frame(errors[2], 0), "is_five", source, Line(source, "LINE_FIVE"), context);
        Assert.Equal(0, report.Run.ExitCode);
    }

    [Theory]
    [InlineData("clean_struct_copies", "structs 100 sum 113238\n")]
    [InlineData("clean_string_functions", "strings 267208\n")]
    [InlineData("clean_string_functions.O0", "strings 267208\n")]
    [InlineData("clean_calloc", "calloc bytes 1054940 nonzero 0 kept 7\n")]
    [InlineData("clean_stack_adjust_flags", "flags kept 250 of 250\n")]
    [InlineData("clean_exit_liveness", "exits agree 50400 of 50400\n")]
    [InlineData("clean_hash_qsort", "nodes 4358 removed 222 found 672 ordered 1 first k0-4 total 11884198\n")]
    [InlineData("clean_indirect_victims", "returns 241530984 jumps 4537500\n")]
    [InlineData("clean_stl_exceptions",
        "records 300 valid 229 invalid 7 rethrown 64 names 300 groups 300 shared 101\njoined 167 0,115,149,165,18,190,230,246,264,280,308\n")]
    public void CleanPrograms_ReportNothing(string binary, string stdout)
    {
        var report = RunMemcheck(CaseBinaries.Get(binary));
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 0,
            $"expected no errors, got {errors.Length}:\n" +
            string.Join("\n", errors.Select(e => $"{Message(e)} at {Describe(e.GetProperty("stack"))}")) + $"\n{report.Context}");
        Assert.Equal(stdout, report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);
        Assert.Equal(0, report.Root.GetProperty("summary").GetProperty("total").GetInt32());
        Assert.Contains("memcheck: NO ERRORS FOUND", report.Run.StderrText);
    }
}
