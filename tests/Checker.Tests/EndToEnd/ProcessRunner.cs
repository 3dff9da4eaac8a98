using System.Diagnostics;
using System.Text;

namespace Checker.Tests.EndToEnd;

/// <summary>What one process run produced.</summary>
public sealed record RunResult(string CommandLine, int ExitCode, byte[] Stdout, byte[] Stderr, TimeSpan Elapsed)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);
    public string StderrText => Encoding.UTF8.GetString(Stderr);
}

/// <summary>Thrown when a process outlives its timeout (it has been killed by then).</summary>
public sealed class ProcessTimeoutException(string message) : Exception(message);

/// <summary>
/// Runs a process with stdin fed from a byte array (empty when none is given) and stdout and
/// stderr captured as bytes. A process that outlives its timeout is killed with its whole
/// process tree and a <see cref="ProcessTimeoutException"/> is thrown.
/// </summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    public static RunResult Run(
        string fileName,
        IEnumerable<string> arguments,
        byte[]? stdin = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null,
        TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var args = arguments.ToList();
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null)
                    psi.Environment.Remove(key);
                else
                    psi.Environment[key] = value;
            }
        }

        const int TextFileBusy = 26;
        string commandLine = FormatCommandLine(fileName, args);
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                process.Start();
                break;
            }
            catch (System.ComponentModel.Win32Exception e) when (e.NativeErrorCode == TextFileBusy && attempt < 100)
            {
                // A test just wrote this executable, and another test's fork still holds the write
                // descriptor until its exec closes it (ETXTBSY): natively a race of the harness, not of
                // the program. Try again shortly.
                Thread.Sleep(10);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"Cannot start {commandLine}: {e.Message}", e);
            }
        }

        var stdoutBuffer = new MemoryStream();
        var stderrBuffer = new MemoryStream();
        Task stdoutTask = process.StandardOutput.BaseStream.CopyToAsync(stdoutBuffer);
        Task stderrTask = process.StandardError.BaseStream.CopyToAsync(stderrBuffer);
        Task stdinTask = FeedStdinAsync(process.StandardInput.BaseStream, stdin ?? []);

        bool exited = process.WaitForExit(limit);
        if (!exited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited just now.
            }
            process.WaitForExit(TimeSpan.FromSeconds(10));
            Task.WaitAll([stdoutTask, stderrTask], TimeSpan.FromSeconds(5));
            throw new ProcessTimeoutException(
                $"Timed out after {limit.TotalSeconds:0} s; killed the process tree of: {commandLine}\n" +
                $"stdout so far ({stdoutBuffer.Length} bytes): {Tail(stdoutBuffer)}\n" +
                $"stderr so far ({stderrBuffer.Length} bytes): {Tail(stderrBuffer)}");
        }

        // The process has exited; its output pipes close when the last writer (the process or
        // any child it left behind) closes them. Don't wait forever for stray children.
        var remaining = limit - stopwatch.Elapsed;
        if (remaining < TimeSpan.FromSeconds(10))
            remaining = TimeSpan.FromSeconds(10);
        if (!Task.WaitAll([stdoutTask, stderrTask], remaining))
        {
            throw new ProcessTimeoutException(
                $"The process exited with status {process.ExitCode} but its output pipes stayed open " +
                $"for {remaining.TotalSeconds:0} s (a leftover child?): {commandLine}");
        }
        stdinTask.Wait(TimeSpan.FromSeconds(5));
        stopwatch.Stop();

        return new RunResult(commandLine, process.ExitCode, stdoutBuffer.ToArray(), stderrBuffer.ToArray(), stopwatch.Elapsed);
    }

    private static async Task FeedStdinAsync(Stream stdin, byte[] data)
    {
        try
        {
            if (data.Length > 0)
                await stdin.WriteAsync(data);
        }
        catch (IOException)
        {
            // The program exited (or closed stdin) before reading everything: that's its business.
        }
        finally
        {
            try
            {
                stdin.Dispose();
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Tail(MemoryStream buffer)
    {
        const int max = 2000;
        var bytes = buffer.ToArray();
        var start = Math.Max(0, bytes.Length - max);
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    public static string FormatCommandLine(string fileName, IEnumerable<string> args) =>
        string.Join(" ", new[] { fileName }.Concat(args).Select(Quote));

    private static string Quote(string s)
    {
        if (s.Length > 200)
            s = s[..200] + "...";
        return s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? s
            : "'" + s.Replace("'", "'\\''") + "'";
    }
}
