using System.Net;
using System.Text.RegularExpressions;
using Checker.Reports.Suppressions;
using Xunit;

namespace Checker.Tests.Reports;

/// <summary>
/// Valgrind's suppression format read unchanged: the files Valgrind itself ships on this machine and
/// the examples of its manual parse entry by entry, and every malformed entry is one error naming
/// its file and line.
/// </summary>
public class SuppressionFileTests
{
    /// <summary>Debian's valgrind package: Valgrind's default suppressions, Debian's own, and the manual.</summary>
    private const string ValgrindDefault = "/usr/libexec/valgrind/default.supp";
    private const string DebianSuppressions = "/usr/lib/valgrind/debian.supp";
    private const string ValgrindManual = "/usr/share/doc/valgrind/html/manual-core.html";

    private static IReadOnlyList<Suppression> Parse(string text) => SuppressionFile.Parse(text, "test.supp");

    private static SuppressionFormatException Malformed(string text) =>
        Assert.Throws<SuppressionFormatException>(() => SuppressionFile.Parse(text, "bad.supp"));

    [Fact]
    public void EveryMemcheckEntryOfValgrindsDefaultFileParsesAndOtherToolsAreLeftOut()
    {
        Assert.True(File.Exists(ValgrindDefault), $"{ValgrindDefault} is missing: the valgrind package (.ci/run installs it)");
        string text = File.ReadAllText(ValgrindDefault);
        IReadOnlyList<Suppression> suppressions = SuppressionFile.Parse(text, ValgrindDefault);

        // Counted independently of the parser: the entries' tool lines.
        string[] toolLines = Regex.Matches(text, @"^\{\s*\n(?:\s*#.*\n|\s*\n)*\s*[^\n]*\n(?:\s*#.*\n|\s*\n)*\s*([^\s]+)\s*$", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToArray();
        int memcheck = toolLines.Count(t => t.Split(':')[0].Split(',').Contains("Memcheck"));
        Assert.True(memcheck > 50, $"only {memcheck} Memcheck entries found in {ValgrindDefault}");
        Assert.True(toolLines.Length > memcheck, "the file also has entries for other tools");
        Assert.Equal(memcheck, suppressions.Count);
        Assert.All(suppressions, s => Assert.NotEmpty(s.Frames));
        Assert.Contains(suppressions, s => s.Kind == "Param" && s.Extra == "write(buf)");
        Assert.Contains(suppressions, s => s.Kind == "Leak");
        Assert.Contains(suppressions, s => s.Frames.Any(f => f.Type == SuppressionFrameType.AnyFrames));
        Assert.Contains(suppressions, s => s.Frames.Any(f => f.Type == SuppressionFrameType.Object && f.Pattern!.Contains('*')));
        // Names and lines point back into the file.
        string[] lines = text.Split('\n');
        Assert.All(suppressions, s => Assert.Equal(s.Name, lines[s.Line - 1].Trim()));
    }

    [Fact]
    public void DebiansSuppressionsWithVersionedNamesParse()
    {
        Assert.True(File.Exists(DebianSuppressions), $"{DebianSuppressions} is missing: the valgrind package (.ci/run installs it)");
        IReadOnlyList<Suppression> suppressions = SuppressionFile.Load(DebianSuppressions);
        Assert.Equal(4, suppressions.Count); // four Memcheck:Leak entries; Helgrind's and drd's are left out
        Assert.All(suppressions, s => Assert.Equal("Leak", s.Kind));
        Assert.Contains(suppressions, s => s.Frames.Any(f => f.Pattern == "dlopen@@GLIBC_2.2.5"));
    }

    [Fact]
    public void EveryExampleOfValgrindsManualParses()
    {
        Assert.True(File.Exists(ValgrindManual), $"{ValgrindManual} is missing: the valgrind package's manual");
        string manual = File.ReadAllText(ValgrindManual);
        string[] examples = Regex.Matches(manual, "<pre class=\"programlisting\">(.*?)</pre>", RegexOptions.Singleline)
            .Select(m => WebUtility.HtmlDecode(Regex.Replace(m.Groups[1].Value, "<[^>]+>", "")))
            .Where(text => Regex.IsMatch(text, @"^\s*\{\s*$", RegexOptions.Multiline) && text.Contains("Memcheck:"))
            .ToArray();
        Assert.Equal(4, examples.Length);
        Suppression[] parsed = examples.Select(e => Assert.Single(Parse(e))).ToArray();
        Assert.Equal(["Value4", "Value4", "Value4", "Leak"], parsed.Select(s => s.Kind));
        Assert.Equal(new SuppressionFrame(SuppressionFrameType.Function, "__mbr*toc"), parsed[0].Frames[1]);
        Assert.Equal(SuppressionFrameType.Object, parsed[1].Frames[0].Type);
        Assert.Equal(new SuppressionFrame(SuppressionFrameType.Source, "valid.c", 321), Assert.Single(parsed[2].Frames));
        Assert.Equal(7, parsed[3].Frames.Count);
        Assert.Null(parsed[3].LeakKinds); // no match-leak-kinds: every kind
    }

    [Fact]
    public void ReadsNameKindExtraLinesFramesCommentsAndToolLists()
    {
        IReadOnlyList<Suppression> all = Parse("""
            # a comment, then blank lines

              {
                 write's buffer   
                 Memcheck,Addrcheck:Param
                 write(buf)
                 # comments may sit between lines
                 fun:write
                 obj:/usr/lib/*/libc.so.?
                 ...
                 src:x.c:12
                 src:y.c
              }
            {
               leaks
               Memcheck:Leak
               match-leak-kinds: definite,possible
               fun:malloc
            }
            {
               old name of Cond
               Memcheck:Value0
               fun:f
            }
            {
               fishy
               Memcheck:FishyValue
               malloc(size)
               fun:malloc
            }
            {
               another tool's
               Helgrind:Race
               fun:anything
            }
            """);
        Assert.Equal(4, all.Count);
        Suppression param = all[0];
        Assert.Equal(("write's buffer", "Param", "write(buf)", 4), (param.Name, param.Kind, param.Extra, param.Line));  // line 4 of the text
        Assert.Equal(
            [
                new SuppressionFrame(SuppressionFrameType.Function, "write"),
                new SuppressionFrame(SuppressionFrameType.Object, "/usr/lib/*/libc.so.?"),
                new SuppressionFrame(SuppressionFrameType.AnyFrames),
                new SuppressionFrame(SuppressionFrameType.Source, "x.c", 12),
                new SuppressionFrame(SuppressionFrameType.Source, "y.c"),
            ],
            param.Frames);
        Assert.Equal(["definite", "possible"], all[1].LeakKinds!.Order());
        Assert.Equal("Cond", all[2].Kind);
        Assert.Equal("malloc(size)", all[3].Extra);
        Assert.Equal("test.supp:4", param.Location);
    }

    [Theory]
    [InlineData("all", "definite,indirect,possible,reachable")]
    [InlineData("none", "")]
    [InlineData("reachable,definite", "definite,reachable")]
    public void MatchLeakKindsTakesValgrindsSets(string given, string expected)
    {
        Suppression leak = Assert.Single(Parse($"{{\n n\n Memcheck:Leak\n match-leak-kinds: {given}\n fun:malloc\n}}\n"));
        Assert.Equal(expected, string.Join(',', leak.LeakKinds!.Order()));
    }

    [Theory]
    [InlineData("{\n name\n Memcheck:Addr4\n fun:f\n", 4, "unexpected end of the file")]
    [InlineData("fun:f\n", 1, "expected '{'")]
    [InlineData("{\n}\n", 2, "unexpected '}'")]
    [InlineData("{\n name\n Memcheck Addr4\n fun:f\n}\n", 3, "malformed 'tool1,tool2,...:kind' line")]
    [InlineData("{\n name\n Memcheck:Addr3\n fun:f\n}\n", 3, "unknown Memcheck suppression kind 'Addr3'")]
    [InlineData("{\n name\n Memcheck:Param\n fun:write\n}\n", 4, "a Param suppression needs the system call")]
    [InlineData("{\n name\n Memcheck:Leak\n match-leak-kinds: lost\n fun:malloc\n}\n", 4, "bad match-leak-kinds")]
    [InlineData("{\n name\n Memcheck:Leak\n leak-kinds: definite\n fun:malloc\n}\n", 4, "expected 'match-leak-kinds: KINDS'")]
    [InlineData("{\n name\n Memcheck:Cond\n function:f\n}\n", 4, "a frame line is '...' or starts with")]
    [InlineData("{\n name\n Memcheck:Cond\n}\n", 4, "has no frames")]
    [InlineData("{\n name\n Memcheck:Cond\n ...\n ...\n}\n", 6, "are all '...'")]
    [InlineData("{\n a\n Memcheck:Cond\n fun:f\n}\n\n# next\n{\n b\n Memcheck:Cond\n fun:f\n", 11, "unexpected end of the file")]
    [InlineData("{\n other tool\n Helgrind:Race\n fun:f\n", 4, "expected '}' to close")]
    public void AMalformedEntryNamesTheFileAndLine(string text, int line, string problem)
    {
        SuppressionFormatException error = Malformed(text);
        Assert.Equal(("bad.supp", line), (error.File, error.Line));
        Assert.Contains(problem, error.Problem);
        Assert.StartsWith($"bad.supp:{line}: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AtMostFiveHundredFrames()
    {
        string frames = string.Concat(Enumerable.Repeat(" fun:f\n", 500));
        Assert.Equal(500, Assert.Single(Parse($"{{\n n\n Memcheck:Cond\n{frames}}}\n")).Frames.Count);
        Assert.Contains("too many frames", Malformed($"{{\n n\n Memcheck:Cond\n{frames} fun:g\n}}\n").Problem);
    }

    [Fact]
    public void AnEmptyFileHasNoSuppressions()
    {
        Assert.Empty(Parse(""));
        Assert.Empty(Parse("# only comments\n\n   # indented\n"));
    }
}
