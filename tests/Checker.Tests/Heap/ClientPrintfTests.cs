using System.Text;
using Checker.MemcheckTool.ClientRequests;
using Xunit;

namespace Checker.Tests.Heap;

/// <summary>
/// VALGRIND_PRINTF's formatting: C's printf semantics (each expectation is what glibc prints for the
/// same format and arguments), except %p of NULL, which is Valgrind's 0x0 where glibc says (nil).
/// </summary>
public class ClientPrintfTests
{
    /// <summary>Arguments as a va_list hands them out: integers and doubles from their own sequences.</summary>
    private sealed class Args(ulong[] integers, double[]? doubles = null) : IVarArgs
    {
        private int _integer, _double;
        public ulong NextInteger() => _integer < integers.Length ? integers[_integer++] : 0;
        public double NextDouble() => doubles != null && _double < doubles.Length ? doubles[_double++] : 0;
    }

    private static readonly Dictionary<ulong, string> Strings = new()
    {
        [0x1000] = "text", [0x2000] = "ab", [0x3000] = "abcdef", [0x4000] = "x",
    };

    private static string Format(string format, ulong[] integers, double[]? doubles = null) =>
        Encoding.ASCII.GetString(ClientPrintf.Format(Encoding.ASCII.GetBytes(format), new Args(integers, doubles),
            (address, max) => Strings.TryGetValue(address, out string? s) ? Encoding.ASCII.GetBytes(s[..Math.Min(max, s.Length)]) : null));

    private static ulong Int(long value) => (ulong)value;

    [Fact]
    public void Integers_AsCPrintsThem()
    {
        Assert.Equal("[-42|7|3000000000|ff|FF|10]", Format("[%d|%i|%u|%x|%X|%o]", [Int(-42), 7, 3000000000, 255, 255, 8]));
        Assert.Equal("[   42|42   |-0042|+42| 42|007|    -007|007     |     007]",
            Format("[%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%-8.3d|%08.3d]", [42, 42, Int(-42), 42, 42, 7, Int(-7), 7, 7]));
        Assert.Equal("[deadbeefcafe|-1234567890123|18446744073709551615|-5|44|4464|99|0xff|010|0]",
            Format("[%lx|%ld|%lu|%lld|%hhd|%hd|%zu|%#x|%#o|%#X]", [0xdeadbeefcafe, Int(-1234567890123), ulong.MaxValue, Int(-5), 300, 70000, 99, 255, 8, 0]));
        // Only the low 32 bits of an int argument count.
        Assert.Equal("-1 4294967295", Format("%d %u", [0xffff_ffff_ffff_ffff, 0xffff_ffff_ffff_ffff]));
        Assert.Equal("1,234,567", Format("%'d", [1234567]));
    }

    [Fact]
    public void StringsCharactersAndPointers_AsValgrindPrintsThem()
    {
        Assert.Equal("[text|   ab|ab   |ab|q|  r|%|0x1234|0x0|(null)]",
            Format("[%s|%5s|%-5s|%.2s|%c|%3c|%%|%p|%p|%s]", [0x1000, 0x2000, 0x2000, 0x3000, 'q', 'r', 0x1234, 0, 0]));
        Assert.Equal("[     1|2   |abc|x   ]", Format("[%*d|%-*d|%.*s|%*s]", [6, 1, 4, 2, 3, 0x3000, Int(-4), 0x4000]));
        Assert.Equal("(unreadable)", Format("%s", [0x9999]));
    }

    [Fact]
    public void Doubles_AsCPrintsThem()
    {
        Assert.Equal("[3.141590|2.50|  -1.000|0.2     |00003.50|+2.0|1.234568e+04|1.23E-04|0.0001|100000|1e-05|1E+20|3.14|1.00|2.]",
            Format("[%f|%.2f|%8.3f|%-8.1f|%08.2f|%+.1f|%e|%.2E|%g|%g|%g|%G|%.3g|%#.3g|%#.0f]", [],
                [3.14159, 2.5, -1.0, 0.25, 3.5, 2.0, 12345.678, 0.000123, 0.0001, 100000.0, 1e-5, 1e20, 3.14159, 1.0, 2.0]));
        Assert.Equal("inf|  -INF", Format("%f|%6F", [], [double.PositiveInfinity, double.NegativeInfinity]));
    }

    [Fact]
    public void UnknownConversionsAndATruncatedSpec_AreCopied()
    {
        Assert.Equal("50%", Format("50%", []));
        Assert.Equal("%y 1", Format("%y %d", [1]));
        Assert.Equal("n=", Format("n=%n", [0x1000]));
    }
}
