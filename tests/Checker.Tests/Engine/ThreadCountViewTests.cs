using System.Text;
using Checker.Engine.Syscalls;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>The thread count patched into /proc/PID/status and /proc/PID/stat text (SyscallEmulator.ProcCounts).</summary>
public class ThreadCountViewTests
{
    private static string Patch(string text, bool status, int threads) =>
        SyscallEmulator.WithThreadCount(Encoding.Latin1.GetBytes(text), status, threads) is byte[] patched
            ? Encoding.Latin1.GetString(patched) : "(null)";

    [Fact]
    public void StatusThreadsLineIsReplacedAndTheRestKept()
    {
        string text = "Name:\tprog\nUmask:\t0022\nThreads:\t7\nSigQ:\t0/95458\n";
        Assert.Equal("Name:\tprog\nUmask:\t0022\nThreads:\t2\nSigQ:\t0/95458\n", Patch(text, status: true, threads: 2));
    }

    [Fact]
    public void StatFieldTwentyIsCountedAfterTheCommandsLastParenthesis()
    {
        // A command holding ") " and spaces: fields are counted from the last ')'.
        string text = "4242 (a) b (c) R 1 4242 4242 0 -1 4194304 99 0 0 0 3 1 0 0 20 0 9 0 123 4096 100 18446744073709551615 1 2 0\n";
        Assert.Equal("4242 (a) b (c) R 1 4242 4242 0 -1 4194304 99 0 0 0 3 1 0 0 20 0 1 0 123 4096 100 18446744073709551615 1 2 0\n",
            Patch(text, status: false, threads: 1));
    }

    [Fact]
    public void TextNotAsTheKernelWritesItIsLeftAlone()
    {
        Assert.Equal("(null)", Patch("Name:\tprog\n", status: true, threads: 1));
        Assert.Equal("(null)", Patch("4242 (prog) R 1 2", status: false, threads: 1));
    }
}
