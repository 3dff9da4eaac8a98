using System.Globalization;
using System.Text.Json;
using Checker.Tests.EndToEnd;
using Checker.Tests.Heap;
using Xunit;
using static Checker.Tests.Heap.MemcheckJson;

namespace Checker.Tests.Symbols;

/// <summary>
/// C++ frames keep their namespace and class, including a static function in a namespace (which
/// GCC gives no DW_AT_linkage_name): the errors of tests/cases/cxx_namespaced_frames.cpp are named
/// as addr2line -f -C names their physical functions, and the always-inlined one as gdb's bt does.
/// </summary>
public class CxxFrameNameTests
{
    private const string Source = "cxx_namespaced_frames.cpp";

    /// <summary>The innermost function and marker of each error, in the order the program makes them.</summary>
    private static (string Function, string Marker)[] Expected(bool optimized) =>
    [
        ("ns::f(int*)", "LINE_NS_F"),
        ("ns::C::m(int*)", "LINE_NS_C_M"),
        ("ns::C::s(int*)", "LINE_NS_C_S"),
        // At -O2 the inlined load is attributed to its caller's line (addr2line and gdb agree).
        optimized ? ("ns::C::s(int*)", "LINE_NS_C_S") : ("ns::inlined", "LINE_NS_INLINED"),
        ("ns::(anonymous namespace)::hidden(int*)", "LINE_NS_ANON"),
        ("file_static(int*)", "LINE_FILE_STATIC"),
    ];

    [Theory]
    [InlineData("cxx_namespaced_frames", false)]
    [InlineData("cxx_namespaced_frames.O2", true)]
    public void FramesKeepNamespaceAndClass(string name, bool optimized)
    {
        string program = CaseBinaries.Get(name);
        MemcheckReport report = RunMemcheck(program);
        var expected = Expected(optimized);
        Assert.True(report.Errors.Length == expected.Length,
            $"expected {expected.Length} errors, got {report.Errors.Length}\n{report.Context}");

        for (int i = 0; i < expected.Length; i++)
        {
            AssertFrame(report.Errors[i].GetProperty("stack")[0], expected[i].Function, Source, Line(Source, expected[i].Marker), report.Context);
        }
        Assert.Contains($"#0 ns::f(int*) [{Path.Combine(RepoPaths.Cases, Source)}:{Line(Source, "LINE_NS_F")}]", report.Run.StderrText);
    }

    [Theory]
    [InlineData("cxx_namespaced_frames")]
    [InlineData("cxx_namespaced_frames.O2")]
    public void PhysicalFramesAreNamedAsAddr2lineNamesThem(string name)
    {
        string program = CaseBinaries.Get(name);
        MemcheckReport report = RunMemcheck(program);
        // Every frame in the program itself that is not inlined into the next: its pc (a return
        // address is looked up at pc-1, inside the call, as addr2line must be asked).
        var frames = new List<(ulong Address, JsonElement Frame)>();
        foreach (JsonElement error in report.Errors)
        {
            JsonElement[] stack = error.GetProperty("stack").EnumerateArray().ToArray();
            for (int i = 0; i < stack.Length; i++)
            {
                if (i + 1 < stack.Length && stack[i + 1].GetProperty("pc").GetString() == stack[i].GetProperty("pc").GetString()) continue;
                if (stack[i].GetProperty("module").GetString() != program) continue;
                ulong offset = ulong.Parse(stack[i].GetProperty("offset").GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                frames.Add((i == 0 ? offset : offset - 1, stack[i]));
            }
        }
        Assert.True(frames.Count >= 12, report.Context);

        // The test binaries are PIE and start at their first PT_LOAD (offset 0): module offsets are link addresses.
        Dictionary<ulong, List<OracleFrame>> oracle = SymbolTools.Addr2Line(program, frames.Select(f => f.Address));
        foreach ((ulong address, JsonElement frame) in frames)
        {
            OracleFrame physical = oracle[address][^1]; // addr2line -i lists the physical function last
            Assert.True(FunctionOf(frame) == physical.Function,
                $"0x{address:x}: memcheck says {FunctionOf(frame)}, addr2line -C says {physical.Function}\n{report.Context}");
        }
    }

    [Fact]
    public void TheInlinedStaticIsNamedAsGdbNamesIt()
    {
        string program = CaseBinaries.Get("cxx_namespaced_frames");
        int line = Line(Source, "LINE_NS_INLINED");
        string gdb = SymbolTools.Run(Path.GetDirectoryName(program)!, "gdb",
            "-nx", "-batch", "-ex", $"break {Source}:{line}", "-ex", "run", "-ex", "bt", program);
        string[] bt = gdb.Split('\n').Where(l => l.StartsWith('#')).ToArray();
        Assert.True(bt.Length >= 3 && bt[0].Contains(" ns::inlined (", StringComparison.Ordinal) && bt[1].Contains(" ns::C::s (", StringComparison.Ordinal), gdb);

        MemcheckReport report = RunMemcheck(program);
        JsonElement stack = report.Errors[3].GetProperty("stack");
        Assert.Equal(["ns::inlined", "ns::C::s(int*)", "main"], stack.EnumerateArray().Select(FunctionOf));
    }
}
