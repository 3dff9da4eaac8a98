using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// memcheck's operator new keeps the C++ contract: when it cannot allocate, the throwing forms
/// throw std::bad_alloc (through libstdc++'s own std::__throw_bad_alloc, so the program's catch
/// runs), the nothrow forms return NULL, and an uncaught bad_alloc ends the program as natively.
/// It used to return NULL from every form: the program went on with a null pointer.
/// </summary>
public class CxxBadAllocTests
{
    [Theory]
    [InlineData("memcheck")]
    [InlineData("none")]
    public void AFailedNewThrowsBadAllocAsNatively(string tool)
    {
        string program = CaseBinaries.Get("cxx_bad_alloc");
        RunResult native = ProcessRunner.Run(program, []);
        Assert.Equal(0, native.ExitCode);
        Assert.Equal("new[]: bad_alloc\nnew: bad_alloc\naligned new: bad_alloc\nnothrow new[]: null\nthen a small new works: x\n", native.StdoutText);

        RunResult run = MemcheckLauncher.Run(["--tool", tool, "--error-exitcode=9", "--", program]);
        Assert.True(run.ExitCode == 0, run.StderrText);
        Assert.Equal(native.StdoutText, run.StdoutText);
    }

    [Fact]
    public void AnUncaughtBadAllocTerminatesAsNatively()
    {
        string program = CaseBinaries.Get("cxx_bad_alloc");
        RunResult native = ProcessRunner.Run(program, ["uncaught"]);
        Assert.Equal(128 + 6, native.ExitCode);
        Assert.Contains("std::bad_alloc", native.StderrText);

        RunResult run = MemcheckLauncher.Run(["--", program, "uncaught"]);
        Assert.True(run.ExitCode == 128 + 6, run.StderrText);
        Assert.Contains("terminate called after throwing an instance of 'std::bad_alloc'", run.StderrText);
        Assert.Empty(run.StdoutText);
    }
}
