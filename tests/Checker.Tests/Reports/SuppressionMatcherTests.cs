using Checker.Reports;
using Checker.Reports.Suppressions;
using Xunit;

namespace Checker.Tests.Reports;

/// <summary>
/// Matching as Valgrind's error manager does: kinds with their sizes and extra lines, frames from
/// the innermost with <c>*</c>, <c>?</c> and <c>...</c>, mangled or demangled names, modules,
/// source lines, the allocator frame Valgrind's stacks start with, and --num-callers.
/// </summary>
public class SuppressionMatcherTests
{
    private const string Exe = "/work/app";
    private const string Libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";

    private static ReportFrame Frame(string? mangled, string? demangled = null, string? module = Exe, string? file = null, int? line = null,
        bool inlined = false) =>
        new(0x1000, module, 0x10, demangled ?? mangled, file, line, inlined, MangledFunction: mangled);

    private static ErrorRecord Error(ValgrindKind kind, params ReportFrame[] stack) =>
        new(ErrorKind.Unaddressable, "m", 1, stack) { Valgrind = kind };

    private static SuppressionMatcher Matcher(string text, int maxFrames = 500) =>
        new(SuppressionFile.Parse(text, "test.supp"), maxFrames);

    private static string? Match(string text, ErrorRecord error, int maxFrames = 500) => Matcher(text, maxFrames).Match(error)?.Name;

    private static readonly ReportFrame[] WriteStack =
        [Frame("write", "__libc_write", Libc), Frame("send_uninit"), Frame("main")];

    [Fact]
    public void AccessSizesAndValueSizesMustBeEqual()
    {
        const string text = "{\n addr4\n Memcheck:Addr4\n fun:f\n}\n{\n value8\n Memcheck:Value8\n fun:f\n}\n";
        Assert.Equal("addr4", Match(text, Error(ValgrindKind.Access(write: true, 4), Frame("f"))));
        Assert.Equal("addr4", Match(text, Error(ValgrindKind.Access(write: false, 4), Frame("f"))));
        Assert.Null(Match(text, Error(ValgrindKind.Access(write: true, 8), Frame("f"))));
        Assert.Equal("value8", Match(text, Error(ValgrindKind.Value(8), Frame("f"))));
        Assert.Null(Match(text, Error(ValgrindKind.Value(4), Frame("f"))));
        Assert.Null(Match(text, Error(ValgrindKind.Condition, Frame("f"))));
    }

    [Fact]
    public void CondAlsoUnderItsOldNameValue0()
    {
        Assert.Equal("old", Match("{\n old\n Memcheck:Value0\n fun:f\n}\n", Error(ValgrindKind.Condition, Frame("f"))));
    }

    [Fact]
    public void ParamMatchesOnlyItsCallAndParameter()
    {
        const string text = "{\n wb\n Memcheck:Param\n write(buf)\n fun:write\n}\n";
        Assert.Equal("wb", Match(text, Error(ValgrindKind.SyscallParam("write(buf)"), WriteStack)));
        Assert.Null(Match(text, Error(ValgrindKind.SyscallParam("writev(vector[0])"), WriteStack)));
        Assert.Null(Match(text, Error(ValgrindKind.Condition, WriteStack)));
    }

    [Fact]
    public void FreeMatchesInvalidAndMismatchedFrees()
    {
        const string text = "{\n f\n Memcheck:Free\n fun:free\n fun:main\n}\n";
        Assert.Equal("f", Match(text, Error(ValgrindKind.InvalidFree with { Routine = "free" }, Frame("main"))));
        Assert.Equal("f", Match(text, Error(ValgrindKind.MismatchedFree with { Routine = "free" }, Frame("main"))));
        // Without the allocator frame, main would be the innermost frame.
        Assert.Null(Match(text, Error(ValgrindKind.InvalidFree, Frame("main"))));
    }

    [Fact]
    public void LeaksMatchTheirMatchLeakKinds()
    {
        const string text = """
            {
               possible only
               Memcheck:Leak
               match-leak-kinds: possible
               fun:malloc
            }
            {
               any kind
               Memcheck:Leak
               fun:calloc
            }
            """;
        ErrorRecord Leak(string kind, string routine) => Error(ValgrindKind.Leak(kind) with { Routine = routine }, Frame("make"), Frame("main"));
        Assert.Equal("possible only", Match(text, Leak("possible", "malloc")));
        Assert.Null(Match(text, Leak("definite", "malloc")));
        Assert.Equal("any kind", Match(text, Leak("definite", "calloc")));
        Assert.Equal("any kind", Match(text, Leak("possible", "calloc")));
        Assert.Null(Match("{\n none\n Memcheck:Leak\n match-leak-kinds: none\n fun:calloc\n}\n", Leak("definite", "calloc")));
    }

    [Fact]
    public void FishyValueMatchesItsRoutineAndArgument()
    {
        const string text = "{\n fishy\n Memcheck:FishyValue\n malloc(size)\n fun:malloc\n}\n";
        Assert.Equal("fishy", Match(text, Error(ValgrindKind.FishyValue("malloc(size)") with { Routine = "malloc" }, Frame("main"))));
        Assert.Null(Match(text, Error(ValgrindKind.FishyValue("calloc(nmemb)") with { Routine = "malloc" }, Frame("main"))));
    }

    [Fact]
    public void OverlapAndJumpAreKindsOfTheirOwn()
    {
        ReportFrame replaced = new(0x1000, "/x/libchecker-replace.so", 0, "memcpy", Replaced: true, MangledFunction: "memcpy");
        Assert.Equal("o", Match("{\n o\n Memcheck:Overlap\n fun:memcpy\n fun:main\n}\n", Error(ValgrindKind.Overlap, replaced, Frame("main"))));
        Assert.Equal("j", Match("{\n j\n Memcheck:Jump\n obj:*\n}\n", Error(ValgrindKind.Jump, Frame(null, module: null))));
    }

    [Fact]
    public void FramesMatchFromTheInnermostAndTheStackMayGoOn()
    {
        ErrorRecord error = Error(ValgrindKind.Condition, Frame("inner"), Frame("middle"), Frame("main"));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:inner\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:inner\n fun:middle\n fun:main\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Cond\n fun:middle\n}\n", error));                                   // not innermost
        Assert.Null(Match("{\n s\n Memcheck:Cond\n fun:inner\n fun:middle\n fun:main\n fun:start\n}\n", error)); // longer than the stack
    }

    [Fact]
    public void DotsMatchAnyNumberOfFramesNoneIncluded()
    {
        ErrorRecord error = Error(ValgrindKind.Condition, Frame("a"), Frame("b"), Frame("c"), Frame("d"), Frame("main"));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n ...\n fun:c\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:a\n ...\n fun:b\n ...\n fun:main\n}\n", error)); // ... as zero frames
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n ...\n fun:main\n ...\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Cond\n ...\n fun:c\n fun:b\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Cond\n ...\n fun:zzz\n}\n", error));
    }

    [Fact]
    public void NamesTakeStarAndQuestionMarkWildcards()
    {
        ErrorRecord error = Error(ValgrindKind.Condition, Frame("__gconv_transform_ascii_internal"), Frame("__mbrtowc"), Frame("mbtowc"));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:__gconv_*\n fun:__mbr*wc\n fun:mb?owc\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Cond\n fun:__gconv_*\n fun:__mbr*wc\n fun:mb??owc\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:*\n fun:*\n fun:*\n}\n", error));
    }

    [Fact]
    public void FunctionsMatchByMangledOrDemangledName()
    {
        ErrorRecord error = Error(ValgrindKind.Access(true, 4),
            Frame("_ZN6shapes6Widget6resizeEm", "shapes::Widget::resize(unsigned long)"), Frame("main"));
        Assert.Equal("s", Match("{\n s\n Memcheck:Addr4\n fun:_ZN6shapes6Widget6resizeEm\n fun:main\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Addr4\n fun:_ZN6shapes*\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Addr4\n fun:shapes::Widget::resize(unsigned long)\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Addr4\n fun:shapes::Widget::*\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Addr4\n fun:resize\n}\n", error));
    }

    [Fact]
    public void AFrameWithoutANameIsThreeQuestionMarks()
    {
        ErrorRecord error = Error(ValgrindKind.Condition, Frame(null, module: null), Frame("main"));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:???\n fun:main\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:*\n fun:main\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n obj:???\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Cond\n fun:main\n}\n", error));
    }

    [Fact]
    public void ObjectsMatchTheModulesPath()
    {
        Assert.Equal("s", Match("{\n s\n Memcheck:Param\n write(buf)\n obj:*/libc.so.*\n fun:send_uninit\n}\n", Error(ValgrindKind.SyscallParam("write(buf)"), WriteStack)));
        Assert.Equal("s", Match($"{{\n s\n Memcheck:Param\n write(buf)\n obj:{Libc}\n obj:{Exe}\n}}\n", Error(ValgrindKind.SyscallParam("write(buf)"), WriteStack)));
        Assert.Null(Match("{\n s\n Memcheck:Param\n write(buf)\n obj:libc.so.6\n}\n", Error(ValgrindKind.SyscallParam("write(buf)"), WriteStack)));
    }

    [Fact]
    public void SourceLinesMatchTheFileNameAndLine()
    {
        ErrorRecord error = Error(ValgrindKind.Value(4), Frame("f", file: "/src/valid.c", line: 321), Frame("main", file: "/src/main.c", line: 9));
        Assert.Equal("s", Match("{\n s\n Memcheck:Value4\n src:valid.c:321\n}\n", error));
        Assert.Equal("s", Match("{\n s\n Memcheck:Value4\n src:valid.c\n src:m*.c:9\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Value4\n src:valid.c:322\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Value4\n src:main.c\n}\n", error));
    }

    [Fact]
    public void InlinedFramesAreFramesOfTheirOwn()
    {
        // The inlined call's frame (DWARF's plain name) before the function it sits in, as Valgrind expands them.
        ErrorRecord error = Error(ValgrindKind.Condition, Frame("helper", inlined: true), Frame("caller"), Frame("main"));
        Assert.Equal("s", Match("{\n s\n Memcheck:Cond\n fun:helper\n fun:caller\n fun:main\n}\n", error));
        Assert.Null(Match("{\n s\n Memcheck:Cond\n fun:caller\n fun:main\n}\n", error));
    }

    [Fact]
    public void OnlyTheFirstNumCallersFramesOfASuppressionCount()
    {
        ErrorRecord error = Error(ValgrindKind.Condition, Frame("a"), Frame("b"));
        const string text = "{\n s\n Memcheck:Cond\n fun:a\n fun:b\n fun:not_in_the_stack\n}\n";
        Assert.Null(Match(text, error));
        Assert.Equal("s", Match(text, error, maxFrames: 2));
    }

    [Fact]
    public void TheFirstMatchingSuppressionInFileOrderWins()
    {
        const string text = "{\n first\n Memcheck:Cond\n fun:a\n}\n{\n second\n Memcheck:Cond\n fun:*\n}\n";
        Assert.Equal("first", Match(text, Error(ValgrindKind.Condition, Frame("a"))));
        Assert.Equal("second", Match(text, Error(ValgrindKind.Condition, Frame("b"))));
    }

    [Fact]
    public void ErrorsWithoutAValgrindKindAreNeverSuppressed()
    {
        var error = new ErrorRecord(ErrorKind.Unaddressable, "m", 1, [Frame("a")]);
        Assert.Null(Match("{\n s\n Memcheck:Cond\n fun:*\n}\n{\n t\n Memcheck:Addr4\n fun:*\n}\n", error));
    }

    [Fact]
    public void AGeneratedBlockParsesBackAndMatchesItsError()
    {
        ErrorRecord[] errors =
        [
            Error(ValgrindKind.Leak("definite") with { Routine = "_Znwm" }, Frame("_Z8leak_newv", "leak_new()"), Frame("main")),
            Error(ValgrindKind.SyscallParam("write(buf)"), WriteStack),
            Error(ValgrindKind.Access(false, 8), Frame(null, module: Exe), Frame(null, module: null), Frame("main")),
            Error(ValgrindKind.FishyValue("malloc(size)") with { Routine = "malloc" }, Frame("main")),
        ];
        string[] blocks = errors.Select(e => SuppressionBlock.For(e, maxFrames: 12)!).ToArray();
        Assert.Equal("{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n   match-leak-kinds: definite\n   fun:_Znwm\n   fun:_Z8leak_newv\n   fun:main\n}\n", blocks[0]);
        Assert.Equal("{\n   <insert_a_suppression_name_here>\n   Memcheck:Param\n   write(buf)\n   fun:write\n   fun:send_uninit\n   fun:main\n}\n", blocks[1]);
        Assert.Equal($"{{\n   <insert_a_suppression_name_here>\n   Memcheck:Addr8\n   obj:{Exe}\n   obj:*\n   fun:main\n}}\n", blocks[2]);
        Assert.Contains("   malloc(size)\n   fun:malloc\n", blocks[3]);
        for (int i = 0; i < errors.Length; i++)
        {
            var matcher = new SuppressionMatcher(SuppressionFile.Parse(blocks[i], "generated.supp"));
            Assert.NotNull(matcher.Match(errors[i]));
            // ... and none of the other errors.
            Assert.All(errors.Where((_, j) => j != i), other => Assert.Null(matcher.Match(other)));
        }
    }

    [Fact]
    public void AGeneratedBlockHasAtMostNumCallersFrames()
    {
        ErrorRecord error = Error(ValgrindKind.Leak("definite") with { Routine = "malloc" }, Frame("a"), Frame("b"), Frame("main"));
        Assert.EndsWith("   fun:malloc\n   fun:a\n}\n", SuppressionBlock.For(error, maxFrames: 2));
        Assert.Null(SuppressionBlock.For(new ErrorRecord(ErrorKind.Unaddressable, "m", 1, [Frame("a")]), 12));
    }

    [Theory]
    [InlineData("abc", "abc", true)]
    [InlineData("a*c", "abbbc", true)]
    [InlineData("a*c", "ac", true)]
    [InlineData("a*c", "acb", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("*", "", true)]
    [InlineData("?", "", false)]
    [InlineData("*a*b*", "xxaxxbxx", true)]
    [InlineData("*a*b*", "xxbxxaxx", false)]
    [InlineData("_Z*resize*", "_ZN6shapes6Widget6resizeEm", true)]
    public void WildcardsMatchTheWholeName(string pattern, string name, bool matches) =>
        Assert.Equal(matches, Wildcard.Matches(pattern, name));
}
