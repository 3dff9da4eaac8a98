using System.Text;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>The programs in tests/cases, compiled here, run natively and under memcheck --tool none.</summary>
public class CaseProgramTests
{
    [Fact]
    public void HelloStatic_SameOutputAndExitStatus()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(
            CaseBinaries.HelloStatic, ["first", "two words", "", "ünïcödé", "--", "-x"]);

        Assert.Equal(3, native.ExitCode);
        Assert.Contains("hello from a static binary", native.StdoutText);
        Assert.Contains("argv[2]=two words", native.StdoutText);
    }

    [Fact]
    public void StdioQsortSetjmp_SameOutputWithEnvironmentAndStdin()
    {
        var environment = new Dictionary<string, string?>
        {
            ["CHECKER_CASE_VAR"] = "value with spaces=and an equals sign",
            ["CHECKER_CASE_SURELY_UNSET"] = null,
        };
        var stdin = Encoding.UTF8.GetBytes("a line from the test\nsecond line, not read\n");

        var (native, _) = NativeComparison.AssertSameBehaviour(
            CaseBinaries.StdioQsortSetjmp, [], stdin, environment);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("getenv: CHECKER_CASE_VAR=value with spaces=and an equals sign", native.StdoutText);
        Assert.Contains("stdin: read 20 bytes: <a line from the test>", native.StdoutText);
        Assert.Contains("qsort: n=10000 sorted=1", native.StdoutText);
        Assert.Contains("setjmp: limit 5, longjmp value 105", native.StdoutText);
        Assert.Contains("stderr line: diagnostic", native.StderrText);
    }

    [Fact]
    public void CxxExceptions_SameOutput()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.CxxExceptions, []);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("x=1 ParseError 'parse error' at 10", native.StdoutText);
        Assert.Contains("live trackers after unwinding: 0", native.StdoutText);
        Assert.Contains("caught std::out_of_range", native.StdoutText);
    }

    [Fact]
    public void CxxStaticInitAndUnwind_SameOutput()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.Get("cxx_static_init_and_unwind"), []);

        Assert.Equal(0, native.ExitCode);
        Assert.Equal(
            "static init order: first;second;computed;\n" +
            "second=2 greeting='static string' startup_sum=385\n" +
            "lazy=99\n" +
            "after lazy: first;second;computed;lazy;\n" +
            "caught DepthError 'bottom reached' at depth 20, destroyed 20 frames\n" +
            "backtrace ok\n" +
            "dynamic_cast: squares=2 circles=1 total area=30.0\n" +
            "typeid: same=1 different=1 name-nonempty=1\n" +
            "caught std::bad_cast\n",
            native.StdoutText);
    }

    [Avx512Fact]
    public void Avx512Loop_SameOutput()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.Avx512Loop, []);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("avx512: n=1003", native.StdoutText);
        Assert.Contains("avx512bw:", native.StdoutText);
    }

    [Theory]
    [InlineData("pie_and_nopie.pie")]
    [InlineData("pie_and_nopie.nopie")]
    public void PieAndNoPie_SameOutput(string variant)
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(CaseBinaries.Get(variant), []);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("fib(24)=46368 ackermann(2,300)=603", native.StdoutText);
        Assert.Contains("checksum=", native.StdoutText);
    }
}
