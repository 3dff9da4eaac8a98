using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Checker.MemcheckTool.Replacements;
using Checker.Tests.EndToEnd;
using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Engine;

/// <summary>
/// Errors in and through memcheck's string replacements, end to end: overlapping copies reported as
/// their own kind with the program's bytes unchanged from native, and frames inside a replacement
/// shown as the libc routine the program called, with nothing of memcheck's own.
/// </summary>
public class StringReplacementReportTests
{
    /// <summary>What string_overlap.c overlaps, in the order it does: routine, dst - src, the count argument (null: none).</summary>
    private static readonly (string Function, long Distance, int? Count)[] Overlaps =
    [
        ("memcpy", 1, 21), ("mempcpy", -5, 30), ("memccpy", 10, 40), ("strcpy", -64, null), ("stpcpy", -64, null),
        ("strncpy", -64, 120), ("stpncpy", -64, 90), ("strcat", -66, null), ("strncat", -66, 80),
        ("wmemcpy", 4, 10), ("wcscpy", -64, null), ("wcpcpy", -64, null), ("wcscat", -72, null),
    ];

    /// <summary>
    /// Each copy routine called once with overlapping buffers: one overlap error each, worded as
    /// Valgrind does, its stack the routine (as the libc function, replaced) then the marked line in
    /// main; memmove and buffers that only touch give none; the bytes the program prints after every
    /// copy are native's.
    /// </summary>
    [Theory]
    [InlineData("string_overlap")]
    [InlineData("string_overlap.O2")]     // -fomit-frame-pointer: main found through the routine's CFI
    public void OverlappingCopies_ReportedOnceEach_BytesAsNative(string binary)
    {
        const string source = "string_overlap.c";
        string program = CaseBinaries.Get(binary);
        RunResult native = ProcessRunner.Run(program, [], "line\n"u8.ToArray());
        MemcheckReport report = RunMemcheck(program);
        string context = report.Context;
        Assert.Equal(0, native.ExitCode);
        Assert.Equal(native.StdoutText, report.Run.StdoutText);
        Assert.Equal(0, report.Run.ExitCode);

        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == Overlaps.Length,
            $"expected {Overlaps.Length} errors, got {errors.Length}: {string.Join(" | ", errors.Select(e => e.GetProperty("message").GetString()))}\n{context}");
        for (int i = 0; i < Overlaps.Length; i++)
        {
            var (function, distance, count) = Overlaps[i];
            JsonElement error = errors[i];
            string message = error.GetProperty("message").GetString()!;
            Assert.True(error.GetProperty("kind").GetString() == "overlap" && error.GetProperty("count").GetInt32() == 1,
                $"error {i + 1}: expected one overlap, got {error.GetProperty("kind").GetString()} x{error.GetProperty("count").GetInt32()}: {message}\n{context}");
            string arguments = count is int n ? @"(0x[0-9a-f]+), (0x[0-9a-f]+)" + (function == "memccpy" ? ", 35" : "") + $", {n}" : @"(0x[0-9a-f]+), (0x[0-9a-f]+)";
            Match call = Regex.Match(message, $@"^source and destination overlap in {function}\({arguments}\)$");
            Assert.True(call.Success, $"error {i + 1}: unexpected message \"{message}\"\n{context}");
            long dst = long.Parse(call.Groups[1].Value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            long src = long.Parse(call.Groups[2].Value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            Assert.True(dst - src == distance, $"error {i + 1}: dst - src is {dst - src}, expected {distance}: {message}\n{context}");
            AssertReplacedThenCaller(error.GetProperty("stack"), function, source, $"LINE_{function.ToUpperInvariant()}", context);
            Assert.Contains($"OVERLAP: {message}", report.Run.StderrText);
        }
        JsonElement kinds = report.Root.GetProperty("summary").GetProperty("kinds");
        Assert.Equal(Overlaps.Length, kinds.GetProperty("overlap").GetProperty("total").GetInt32());
        Assert.Contains($"{Overlaps.Length} total overlapping copy(ies)", report.Run.StderrText);
        AssertNothingOfMemchecksOwn(report);
    }

    /// <summary>
    /// An overflow inside a replaced routine (strlen, memcpy) is reported with the routine as the libc
    /// function, marked replaced, then the program's line; no file, line or module of memcheck's.
    /// </summary>
    [Theory]
    [InlineData("string_overflow_frames")]
    [InlineData("string_overflow_frames.O2")]
    public void OverflowInsideStrlenAndMemcpy_ShowsTheLibcFunctionThenTheCaller(string binary)
    {
        const string source = "string_overflow_frames.c";
        MemcheckReport report = RunMemcheck(CaseBinaries.Get(binary));
        string context = report.Context;
        Assert.Equal("1 9\n", report.Run.StdoutText);
        JsonElement[] errors = report.Errors;
        Assert.True(errors.Length == 2, $"expected 2 errors, got {errors.Length}\n{context}");
        (string Function, string Marker, int Size)[] expected = [("strlen", "LINE_STRLEN", 8), ("memcpy", "LINE_MEMCPY", 10)];
        for (int i = 0; i < expected.Length; i++)
        {
            var (function, marker, size) = expected[i];
            string message = errors[i].GetProperty("message").GetString()!;
            Assert.True(errors[i].GetProperty("kind").GetString() == "unaddressable" && message.Contains($"reading 1 byte(s) at ", StringComparison.Ordinal)
                    && message.Contains($"0 byte(s) beyond a {size}-byte block", StringComparison.Ordinal),
                $"error {i + 1}: unexpected {errors[i].GetProperty("kind").GetString()} \"{message}\"\n{context}");
            AssertReplacedThenCaller(errors[i].GetProperty("stack"), function, source, marker, context);
            AssertFrame(errors[i].GetProperty("block").GetProperty("alloc_stack")[0], "main", source, Line(source, marker + "_ALLOC"), context);
            Assert.Contains($"#0 {function} (replaced by memcheck)\n", report.Run.StderrText);
        }
        AssertNothingOfMemchecksOwn(report);
    }

    /// <summary>The innermost frame is <paramref name="function"/>, replaced, with nothing of memcheck's; then main at the marker.</summary>
    private static void AssertReplacedThenCaller(JsonElement stack, string function, string source, string marker, string context)
    {
        JsonElement top = stack[0];
        string frames = $"stack: {Describe(stack)}\n{context}";
        Assert.True(FunctionOf(top) == function && top.TryGetProperty("replaced", out JsonElement replaced) && replaced.GetBoolean(),
            $"expected {function} (replaced) as the innermost frame\n{frames}");
        Assert.False(top.TryGetProperty("module", out _) || top.TryGetProperty("file", out _) || top.TryGetProperty("line", out _),
            $"the replaced {function} frame names memcheck's module or source\n{top}\n{frames}");
        AssertFrame(stack[1], "main", source, Line(source, marker), frames);
    }

    /// <summary>Neither the text report nor the JSON mentions memcheck's replacement library or its source.</summary>
    private static void AssertNothingOfMemchecksOwn(MemcheckReport report)
    {
        string json = report.Root.GetRawText();
        foreach (string own in new[] { "string_replacements.c", StringReplacements.FileName })
        {
            Assert.DoesNotContain(own, report.Run.StderrText);
            Assert.DoesNotContain(own, json);
        }
    }
}
