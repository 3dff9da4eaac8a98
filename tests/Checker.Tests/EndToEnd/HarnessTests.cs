using System.Text;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>The end-to-end harness itself (no memcheck involved).</summary>
public class HarnessTests
{
    [Fact]
    public void ProcessRunner_CapturesBytesStdinAndExitStatus()
    {
        var result = ProcessRunner.Run("/bin/sh", ["-c", "cat; printf 'err\\377' >&2; exit 7"],
            stdin: Encoding.UTF8.GetBytes("in\x01put\n"));

        Assert.Equal(7, result.ExitCode);
        Assert.Equal("in\x01put\n"u8.ToArray(), result.Stdout);
        Assert.Equal(new byte[] { (byte)'e', (byte)'r', (byte)'r', 0xff }, result.Stderr);
    }

    [Fact]
    public void ProcessRunner_KillsTheProcessTreeOnTimeout()
    {
        var marker = Path.Combine(Scratch.NewDirectory("timeout"), "survived");
        var e = Assert.Throws<ProcessTimeoutException>(() => ProcessRunner.Run(
            "/bin/sh", ["-c", $"(sleep 4; touch {marker}) & echo started; sleep 60"],
            timeout: TimeSpan.FromSeconds(1)));

        Assert.Contains("Timed out after 1 s", e.Message);
        Assert.Contains("started", e.Message);
        Thread.Sleep(TimeSpan.FromSeconds(5));
        Assert.False(File.Exists(marker), "a child of the timed-out process was left running");
    }

    [Fact]
    public void WithoutMemcheckLines_DropsOnlyMemcheckLines()
    {
        var stderr = "guest line\nmemcheck: engine line\nmemcheck:\nmemcheck[123]: forked\nmemcheck:not ours\nmemcheck[x]: nor this\nlast without newline"u8.ToArray();

        var filtered = NativeComparison.WithoutMemcheckLines(stderr);

        Assert.Equal("guest line\nmemcheck:not ours\nmemcheck[x]: nor this\nlast without newline", Encoding.UTF8.GetString(filtered));
        Assert.Equal(123, MemcheckLauncher.PidOf("memcheck[123]: forked"));
        Assert.Null(MemcheckLauncher.PidOf("memcheck: engine line"));
    }
}
