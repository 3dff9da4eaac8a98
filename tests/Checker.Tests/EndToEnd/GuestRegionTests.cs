using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Memory the kernel hands the program (System V shared memory, many small mmaps) is placed in the
/// guest's region by memcheck and works as natively, under full checking: no false report, the
/// same output.
/// </summary>
public class GuestRegionTests
{
    [Theory]
    [InlineData("shm", "shared hello\n")]
    [InlineData("maps", "maps 20000 sum ")]
    public void KernelPlacedMemory_IsTheProgramsUnderFullChecking(string mode, string expected)
    {
        string program = CaseBinaries.Get("guest_region");
        var native = ProcessRunner.Run(program, [mode]);
        Assert.Equal(0, native.ExitCode);
        Assert.StartsWith(expected, native.StdoutText);
        var run = MemcheckLauncher.Run(["--error-exitcode=9", "--", program, mode]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.StderrText}");
        Assert.Equal(native.StdoutText, run.StdoutText);
        Assert.Contains("NO ERRORS FOUND", run.StderrText);
    }
}
