using System.Text;
using System.Text.RegularExpressions;
using Checker.Engine.Syscalls.Parameters;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>
/// The syscall parameter table against the system's own truth: numbers from the kernel headers,
/// structure sizes from gcc, and docs/syscalls.md generated from the table.
/// </summary>
public class SyscallParametersTableTests
{
    private const string UnistdHeader = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

    [Fact]
    public void EveryRowsNumberIsTheKernelsNumberForItsName()
    {
        var numbers = new Dictionary<string, long>();
        foreach (Match m in Regex.Matches(File.ReadAllText(UnistdHeader), @"#define __NR_(\w+) (\d+)"))
            numbers[m.Groups[1].Value] = long.Parse(m.Groups[2].Value);
        var rows = SyscallTable.All.ToList();
        Assert.True(rows.Count > 150, $"only {rows.Count} rows");
        foreach (var row in rows)
        {
            Assert.True(numbers.TryGetValue(row.Name, out long number), $"{row.Name} is not in {UnistdHeader}");
            Assert.True(number == row.Number, $"{row.Name} is {number}, the table says {row.Number}");
            Assert.True(row.Arguments.Count <= 6, $"{row.Name} has {row.Arguments.Count} arguments");
        }
    }

    [Fact]
    public void EveryStructSizeIsWhatGccSays()
    {
        // glibc's types in one program, the kernel's own (asm/ headers: termios, sigaction) in another: they clash.
        string libc = """
            #define _GNU_SOURCE
            #include <stdio.h>
            #include <sys/stat.h>
            #include <sys/time.h>
            #include <sys/resource.h>
            #include <sys/sysinfo.h>
            #include <sys/times.h>
            #include <sys/utsname.h>
            #include <sys/statfs.h>
            #include <sys/epoll.h>
            #include <sys/socket.h>
            #include <sys/uio.h>
            #include <sys/timex.h>
            #include <sys/sem.h>
            #include <poll.h>
            #include <fcntl.h>
            #include <signal.h>
            #include <time.h>
            #include <utime.h>
            #include <linux/openat2.h>
            #include <sys/shm.h>
            #include <sys/msg.h>
            #include <sys/user.h>
            #include <mqueue.h>
            #include <linux/aio_abi.h>
            """;
        string kernel = """
            #include <stdio.h>
            #include <asm/termbits.h>
            #include <asm/termios.h>
            #include <asm/signal.h>
            """;
        foreach (bool kernelHeader in new[] { false, true })
        {
            var types = KernelStructs.All.Where(s => s.KernelHeader == kernelHeader).ToList();
            var program = new StringBuilder(kernelHeader ? kernel : libc);
            program.Append("\nint main(void) {\n");
            foreach (var type in types) program.Append($"    printf(\"%zu\\n\", sizeof({type.CType}));\n");
            program.Append("    return 0;\n}\n");
            var sizes = CompileAndRun(program.ToString(), kernelHeader ? "kernel_structs" : "libc_structs");
            Assert.Equal(types.Count, sizes.Length);
            for (int i = 0; i < types.Count; i++)
                Assert.True(types[i].Size == ulong.Parse(sizes[i]), $"sizeof({types[i].CType}) is {sizes[i]}, the table says {types[i].Size}");
        }
    }

    [Fact]
    public void SyscallsMarkdownMatchesTheTable()
    {
        string path = Path.Combine(RepoPaths.Root, "docs", "syscalls.md");
        string expected = SyscallTable.MarkdownTable();
        if (Environment.GetEnvironmentVariable("CHECKER_REGENERATE_DOCS") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path) && File.ReadAllText(path) == expected,
            "docs/syscalls.md is out of date: run the tests once with CHECKER_REGENERATE_DOCS=1");
    }

    [Fact]
    public void EveryRuleDescribesItselfAndNamesOnlyRealArguments()
    {
        foreach (var row in SyscallTable.All)
        {
            foreach (string line in row.DescribeMemory())
            {
                Assert.False(string.IsNullOrWhiteSpace(line), row.Name);
                // Placeholders like {2} are replaced by argument names.
                Assert.DoesNotMatch(@"\{\d\}", line);
            }
        }
    }

    private static string[] CompileAndRun(string source, string name)
    {
        string directory = Scratch.NewDirectory(name);
        string c = Path.Combine(directory, name + ".c"), binary = Path.Combine(directory, name);
        File.WriteAllText(c, source);
        var compiled = ProcessRunner.Run("gcc", ["-o", binary, c]);
        Assert.True(compiled.ExitCode == 0, compiled.StderrText);
        var run = ProcessRunner.Run(binary, []);
        Assert.Equal(0, run.ExitCode);
        return run.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
