using System.Diagnostics;
using System.Text;

namespace Checker.Tests.Loading;

/// <summary>How a capped run ended.</summary>
public sealed record CappedRunResult(int ExitCode, string Stdout, string Stderr, bool TimedOut, bool OverMemoryCap, long PeakRssBytes);

/// <summary>
/// Runs a process with a wall-clock limit and a resident-memory cap, killing it (and its children)
/// when it passes either. The cap is watched in /proc/PID/status rather than set with ulimit -v:
/// memcheck's shadow memory and the .NET runtime reserve terabytes of address space up front, so
/// an address-space limit stops them before the program under test starts.
/// </summary>
public static class CappedRun
{
    public static CappedRunResult Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout, long rssCapBytes, string workingDirectory)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string a in arguments) psi.ArgumentList.Add(a);

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        Task copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task copyErr = process.StandardError.BaseStream.CopyToAsync(stderr);

        var clock = Stopwatch.StartNew();
        bool timedOut = false, overCap = false;
        long peak = 0;
        while (!process.WaitForExit(TimeSpan.FromMilliseconds(20)))
        {
            long rss = ResidentBytes(process.Id);
            peak = Math.Max(peak, rss);
            overCap = rss > rssCapBytes;
            timedOut = clock.Elapsed > timeout;
            if (overCap || timedOut)
            {
                try { process.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }
                process.WaitForExit(TimeSpan.FromSeconds(10));
                break;
            }
        }
        Task.WaitAll([copyOut, copyErr], TimeSpan.FromSeconds(10));
        return new CappedRunResult(process.HasExited ? process.ExitCode : -1, Encoding.UTF8.GetString(stdout.ToArray()),
            Encoding.UTF8.GetString(stderr.ToArray()), timedOut, overCap, peak);
    }

    /// <summary>VmRSS of a live process in bytes (0 once it is gone).</summary>
    private static long ResidentBytes(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1]) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
