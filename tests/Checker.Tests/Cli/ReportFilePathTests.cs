using Checker.Memcheck;
using Xunit;

namespace Checker.Tests.Cli;

/// <summary>Which --json file each process of a run writes (see <see cref="ReportFilePath"/>).</summary>
public class ReportFilePathTests
{
    [Theory]
    [InlineData("report.json", false, "report.json")]
    [InlineData("report.json", true, "report.4242.json")]
    [InlineData("/out/dir/report.json", true, "/out/dir/report.4242.json")]
    [InlineData("/out/report", true, "/out/report.4242")]
    [InlineData("/out/.json", true, "/out/.json.4242")]
    [InlineData("/out/r-%p.json", false, "/out/r-4242.json")]
    [InlineData("/out/r-%p.json", true, "/out/r-4242.json")]
    [InlineData("/out/%p/%p.json", false, "/out/4242/4242.json")]
    public void ForkedChildrenAndPercentP(string option, bool forkedChild, string expected)
    {
        Assert.Equal(expected, ReportFilePath.For(option, 4242, forkedChild));
    }

    /// <summary>A program exec'd after its process's earlier programs wrote that name (exec keeps the pid).</summary>
    [Theory]
    [InlineData("report.json", 1, "report.4242.1.json")]
    [InlineData("/out/r-%p.json", 2, "/out/r-4242.2.json")]
    [InlineData("/out/report", 1, "/out/report.4242.1")]
    public void ExecdProgramsOfOnePid(string option, int index, string expected)
    {
        Assert.Equal(expected, ReportFilePath.For(option, 4242, forkedChild: true, index));
    }

    /// <summary>A device or FIFO target is every process's, as it is: no /dev/null.4242 beside /dev/null.</summary>
    [Fact]
    public void ADeviceIsEveryProcesssTarget()
    {
        Assert.Equal("/dev/null", ReportFilePath.For("/dev/null", 4242, forkedChild: true, 1));
        Assert.Equal("/dev/null", ReportFilePath.For("/dev/null", 4242, forkedChild: false));
    }
}
