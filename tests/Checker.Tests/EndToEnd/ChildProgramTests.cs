using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Real programs that run other programs, under full checking with --trace-children=yes (the
/// default): a bash pipeline, make, and gcc -c (which execs cc1 and as). Each must give the same
/// output, files and status as natively, with no error reported, and its children must have run
/// under memcheck (each writes its own summary under its pid).
/// </summary>
public class ChildProgramTests
{
    private static readonly Dictionary<string, string?> CLocale = new() { ["LC_ALL"] = "C", ["TZ"] = "UTC" };

    private const string Hello = "#include <stdio.h>\nint main(void)\n{\n    puts(\"hello\");\n    return 0;\n}\n";
    private const string Makefile = "all: hello.o\n\t@echo built $<\nhello.o: hello.c\n\tgcc -c hello.c -o hello.o\n";

    /// <summary>A fresh directory holding hello.c and the Makefile.</summary>
    private static string Project(string name)
    {
        string directory = Scratch.NewDirectory(name);
        File.WriteAllText(Path.Combine(directory, "hello.c"), Hello);
        File.WriteAllText(Path.Combine(directory, "Makefile"), Makefile);
        return directory;
    }

    /// <summary>Runs the command natively and under memcheck, each in a fresh project directory; asserts the same behaviour and no errors.</summary>
    private static (string NativeDirectory, string MemcheckDirectory, RunResult Memcheck) AssertCheckedLikeNative(string name, string program, params string[] arguments) =>
        AssertCheckedLikeNative(name, [], program, arguments);

    private static (string NativeDirectory, string MemcheckDirectory, RunResult Memcheck) AssertCheckedLikeNative(string name, string[] options, string program, params string[] arguments)
    {
        string nativeDirectory = Project(name + "-native"), memcheckDirectory = Project(name + "-memcheck");
        RunResult native = ProcessRunner.Run(program, arguments, environment: CLocale, workingDirectory: nativeDirectory);
        RunResult memcheck = MemcheckLauncher.Run([.. options, "--", program, .. arguments], environment: CLocale, workingDirectory: memcheckDirectory);
        NativeComparison.AssertSame(native, memcheck);
        List<string> lines = NativeComparison.MemcheckLines(memcheck.Stderr);
        Assert.True(!lines.Any(l => l.Contains(": Error #", StringComparison.Ordinal)), $"errors reported:\n{memcheck.StderrText}");
        return (nativeDirectory, memcheckDirectory, memcheck);
    }

    /// <summary>How many processes wrote memcheck lines (each checked process ends with its summary).</summary>
    private static int CheckedProcesses(RunResult run) =>
        NativeComparison.MemcheckLines(run.Stderr).Select(MemcheckLauncher.PidOf).Where(p => p != null).Distinct().Count();

    [Fact]
    public void BashPipeline()
    {
        var (_, _, run) = AssertCheckedLikeNative("pipeline", "/bin/bash", "-c", "ls / | grep -c . && ls /nonexistent | wc -l; exit 3");
        Assert.Equal(3, run.ExitCode);
        // bash, its subshells' ls and grep, wc: every one under memcheck.
        Assert.True(CheckedProcesses(run) >= 4, run.StderrText);
    }

    [Fact]
    public void GccCompilesTheSameObject()
    {
        // cc1 reads memory it never initialized by design (GCC's sparse sets and bitmaps): valgrind
        // reports the same sites (GccUninitializedReadsAreValgrinds), so only addressability here.
        var (native, checkedDirectory, run) = AssertCheckedLikeNative("gcc", ["--check-uninitialized=no"], "/usr/bin/gcc", "-c", "hello.c", "-o", "hello.o");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(native, "hello.o")), File.ReadAllBytes(Path.Combine(checkedDirectory, "hello.o")));
        // gcc, cc1, as.
        Assert.True(CheckedProcesses(run) >= 3, run.StderrText);
    }

    [Fact]
    public void MakeBuildsTheSameObject()
    {
        var (native, checkedDirectory, run) = AssertCheckedLikeNative("make", ["--check-uninitialized=no"], "/usr/bin/make");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("built hello.o", run.StdoutText);
        Assert.Equal(File.ReadAllBytes(Path.Combine(native, "hello.o")), File.ReadAllBytes(Path.Combine(checkedDirectory, "hello.o")));
        // make, gcc, cc1, as, echo.
        Assert.True(CheckedProcesses(run) >= 4, run.StderrText);
    }

    /// <summary>
    /// cc1's own uninitialized reads (a C file compiled at -O2): every conditional jump or address
    /// memcheck reports in cc1 is one valgrind memcheck reports too, at the same instruction, and
    /// there is at least one.
    /// </summary>
    [Fact]
    public void GccUninitializedReadsAreValgrinds()
    {
        string directory = Project("gcc-valgrind");
        string[] compile = ["/usr/bin/gcc", "-O2", "-c", "hello.c", "-o", "hello.o"];
        AssertUninitializedSitesAreValgrinds(compile, directory, "cc1", valgrindArguments: ["--trace-children=yes"]);
    }

    /// <summary>
    /// The same for cc1plus compiling a small template-heavy C++ file at -O2 (run directly, as g++
    /// runs it). Its register allocator reads bitfields as (w + w) >> n: taken as an addition, the
    /// never-set bits below a field made it undefined, and memcheck reported 201 sites, 162 of them
    /// not valgrind's; with x + x as x &lt;&lt; 1, valgrind's 39 exactly.
    /// </summary>
    [Fact]
    public void CxxCompilerUninitializedReadsAreValgrinds()
    {
        string directory = Scratch.NewDirectory("gxx-valgrind");
        File.WriteAllText(Path.Combine(directory, "small.cpp"), SmallCxx);
        string cc1plus = ProcessRunner.Run("/usr/bin/g++", ["-print-prog-name=cc1plus"]).StdoutText.Trim();
        Assert.True(File.Exists(cc1plus), $"g++ -print-prog-name=cc1plus gave '{cc1plus}'");
        string[] compile = [cc1plus, "-quiet", "-O2", "small.cpp", "-o", "small.s"];
        AssertUninitializedSitesAreValgrinds(compile, directory, "cc1plus", valgrindArguments: []);
    }

    private const string SmallCxx = """
        template <typename T> struct vec {
            T *data; unsigned n, cap;
            void push(const T &v) { if (n == cap) grow(); data[n++] = v; }
            void grow() { cap = cap ? cap * 2 : 4; T *d = new T[cap]; for (unsigned i = 0; i < n; i++) d[i] = data[i]; delete[] data; data = d; }
            T sum() const { T s = T(); for (unsigned i = 0; i < n; i++) s = s + data[i]; return s; }
        };
        struct point { int x, y; point operator+(const point &o) const { return {x + o.x, y + o.y}; } };
        template <typename T> T accumulate(unsigned count, T step) {
            vec<T> v{nullptr, 0, 0};
            T cur = T();
            for (unsigned i = 0; i < count; i++) { cur = cur + step; v.push(cur); }
            return v.sum();
        }
        int f(int a) { return accumulate<int>(a, 3); }
        long g(long a) { return accumulate<long>(a, 5); }
        double h(double a) { return accumulate<double>(unsigned(a), 0.5); }
        point p(int a) { return accumulate<point>(a, point{1, 2}); }
        int main(int argc, char **) { return f(argc) + int(g(argc)) + int(h(argc)) + p(argc).x; }
        """;

    /// <summary>
    /// Runs <paramref name="compile"/> under memcheck and under valgrind; asserts both succeed, that
    /// memcheck reports at least one uninitialized read in <paramref name="module"/> (a non-PIE GCC
    /// program) and that each one's innermost pc is among valgrind's.
    /// </summary>
    private static void AssertUninitializedSitesAreValgrinds(string[] compile, string directory, string module, string[] valgrindArguments)
    {
        RunResult memcheck = MemcheckLauncher.Run(["--", .. compile], environment: CLocale, workingDirectory: directory);
        Assert.Equal(0, memcheck.ExitCode);
        RunResult valgrind = ProcessRunner.Run("/usr/bin/valgrind", ["-q", .. valgrindArguments, .. compile], environment: CLocale, workingDirectory: directory);
        Assert.Equal(0, valgrind.ExitCode);

        var ours = new HashSet<ulong>();
        string[] lines = memcheck.StderrText.Split('\n');
        string name = System.Text.RegularExpressions.Regex.Escape(module);
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            if (!lines[i].Contains("UNINITIALIZED READ", StringComparison.Ordinal)) continue;
            var frame = System.Text.RegularExpressions.Regex.Match(lines[i + 1], $@"#0 .*\({name}\+0x([0-9a-f]+)\)");
            if (frame.Success) ours.Add(Convert.ToUInt64(frame.Groups[1].Value, 16));
        }
        // valgrind names the module's pcs at its link address (a non-PIE at 0x400000).
        var theirs = System.Text.RegularExpressions.Regex.Matches(valgrind.StderrText, $@"uninitialised value.*\n==\d+==\s+at 0x([0-9A-F]+): .*\(in .*/{name}\)")
            .Select(m => Convert.ToUInt64(m.Groups[1].Value, 16) - 0x400000).ToHashSet();
        Assert.True(ours.Count > 0, $"no uninitialized read reported in {module}:\n{memcheck.StderrText}");
        Assert.True(ours.IsSubsetOf(theirs),
            $"memcheck's {module} sites {string.Join(", ", ours.Select(o => $"0x{o:x}"))} are not all valgrind's {string.Join(", ", theirs.Select(t => $"0x{t:x}"))}");
    }
}
