using System.Diagnostics;
using Xunit;

namespace Checker.Tests.Elf;

/// <summary>Compiles small C programs with the host gcc into a private temporary directory.</summary>
public sealed class CCompiler : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("checker-elf-").FullName;

    /// <summary>Writes <paramref name="source"/> to NAME.c, runs <c>gcc FLAGS NAME.c -o NAME</c>, asserts success and returns the output's path.</summary>
    public string Compile(string name, string source, params string[] flags)
    {
        string sourcePath = Path.Combine(_directory, name + ".c");
        string outputPath = Path.Combine(_directory, name);
        File.WriteAllText(sourcePath, source);

        var start = new ProcessStartInfo("gcc")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        foreach (string flag in flags) start.ArgumentList.Add(flag);
        start.ArgumentList.Add(sourcePath);
        start.ArgumentList.Add("-o");
        start.ArgumentList.Add(outputPath);

        using Process gcc = Process.Start(start)!;
        // Read both pipes concurrently so a chatty compiler cannot block on a full pipe.
        Task<string> stdout = gcc.StandardOutput.ReadToEndAsync();
        string stderr = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        Assert.True(gcc.ExitCode == 0, $"gcc {string.Join(' ', start.ArgumentList)} failed ({gcc.ExitCode}):\n{stdout.Result}{stderr}");
        return outputPath;
    }

    /// <summary>A path in the temporary directory for a derived file.</summary>
    public string PathFor(string name) => Path.Combine(_directory, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
