using System.Text;
using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>
/// Real programs from the system, run natively and under memcheck --tool none with the same
/// arguments, input and environment; their output and exit status must be identical.
/// </summary>
public class SystemProgramTests
{
    private static readonly Dictionary<string, string?> _cLocale = new()
    {
        ["LC_ALL"] = "C",
        ["TZ"] = "UTC",
    };

    [Fact]
    public void Ls_LongListingOfUsrShare()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/ls", ["-la", "/usr/share"], environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains(" doc\n", native.StdoutText);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-t| |-k2,2n")]
    [InlineData("-r|-u")]
    public void Sort_GeneratedMegabyte(string options)
    {
        var dir = Scratch.NewDirectory("sort");
        var input = Path.Combine(dir, "lines.txt");
        File.WriteAllBytes(input, TestData.RandomLines(seed: 20240601, targetBytes: 1 << 20));
        var args = options.Split('|', StringSplitOptions.RemoveEmptyEntries).Append(input).ToList();

        var (native, _) = NativeComparison.AssertSameBehaviour("/usr/bin/sort", args, environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.True(native.Stdout.Length > (1 << 19), "native sort printed too little");
    }

    [Fact]
    public void Gzip_CompressThenDecompressRoundTrip()
    {
        var dir = Scratch.NewDirectory("gzip");
        var original = TestData.CompressibleBytes(seed: 7, length: 1 << 20);
        var input = Path.Combine(dir, "data.bin");
        File.WriteAllBytes(input, original);

        var (native, _) = NativeComparison.AssertSameBehaviour("/usr/bin/gzip", ["-c", input]);
        Assert.Equal(0, native.ExitCode);
        Assert.True(native.Stdout.Length > 0 && native.Stdout.Length < original.Length, "gzip did not compress");

        var compressed = Path.Combine(dir, "data.bin.gz");
        File.WriteAllBytes(compressed, native.Stdout);
        var decompressed = MemcheckLauncher.RunToolNone("/usr/bin/gzip", ["-dc", compressed]);
        AssertRestored(original, decompressed);
    }

    [Fact]
    public void Xz_CompressThenDecompressRoundTrip()
    {
        var dir = Scratch.NewDirectory("xz");
        var original = TestData.CompressibleBytes(seed: 11, length: 512 * 1024);
        var input = Path.Combine(dir, "data.bin");
        File.WriteAllBytes(input, original);

        var (native, _) = NativeComparison.AssertSameBehaviour("/usr/bin/xz", ["-c", input]);
        Assert.Equal(0, native.ExitCode);
        Assert.True(native.Stdout.Length > 0 && native.Stdout.Length < original.Length, "xz did not compress");

        var compressed = Path.Combine(dir, "data.bin.xz");
        File.WriteAllBytes(compressed, native.Stdout);
        var decompressed = MemcheckLauncher.RunToolNone("/usr/bin/xz", ["-dc", compressed]);
        AssertRestored(original, decompressed);
    }

    private const string PythonScript = """
        import hashlib, json, re
        data = {"name": "checker", "squares": [i * i for i in range(20)],
                "nested": {"pi": 3.14159, "ok": True, "nothing": None, "text": "caf\u00e9"}}
        text = json.dumps(data, sort_keys=True)
        print(text)
        back = json.loads(text)
        print(back["squares"][-1], back["nested"]["pi"], back == data)
        print(hashlib.sha256(b"memory error detector").hexdigest())
        print(hashlib.sha256(text.encode("utf-8")).hexdigest())
        words = re.findall(r"[a-z]+(?:_[a-z]+)*", "alpha_beta Gamma delta_epsilon_zeta 42 eta")
        print(words)
        print(re.sub(r"(\d+)", lambda m: str(int(m.group(1)) * 2), "a1 b22 c333"))
        multiples = [x * x for x in range(1, 50) if x % 3 == 0]
        print(sum(multiples), multiples[:5])
        print(sorted({w: len(w) for w in words}.items(), key=lambda kv: (-kv[1], kv[0])))
        print(f"{sum(x / 7 for x in range(1000)):.6f}", 2 ** 100, divmod(-17, 5))
        """;

    [Fact]
    public void Python3_JsonHashlibRegexComprehension()
    {
        // -I: ignore PYTHON* variables and the user site; -B: write no bytecode files.
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/python3", ["-I", "-B", "-c", PythonScript], environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("1267650600228229401496703205376", native.StdoutText);
    }

    private const string SqlScript = """
        CREATE TABLE dept(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE emp(id INTEGER PRIMARY KEY, name TEXT, dept_id INTEGER REFERENCES dept(id), salary REAL);
        INSERT INTO dept(name) VALUES ('engineering');
        INSERT INTO dept(name) VALUES ('sales');
        INSERT INTO dept(name) VALUES ('support');
        INSERT INTO dept(name) VALUES ('research');
        BEGIN;
        INSERT INTO emp(name, dept_id, salary) VALUES ('ada', 1, 91000.5);
        INSERT INTO emp(name, dept_id, salary) VALUES ('grace', 4, 88000);
        INSERT INTO emp(name, dept_id, salary) VALUES ('linus', 1, 75000.25);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
        INSERT INTO emp(name, dept_id, salary)
            SELECT printf('emp%04d', i), (i * 7) % 4 + 1, 30000 + (i * 7919) % 50000 FROM n;
        COMMIT;
        UPDATE emp SET salary = salary * 1.05 WHERE dept_id = 3;
        CREATE INDEX emp_salary ON emp(salary);
        SELECT d.name, count(*), printf('%.2f', avg(e.salary)), max(e.salary)
            FROM emp e JOIN dept d ON d.id = e.dept_id GROUP BY d.name ORDER BY d.name;
        SELECT printf('%-8s earns %010.2f in %s', e.name, e.salary, d.name)
            FROM emp e JOIN dept d ON d.id = e.dept_id WHERE e.id % 500 = 0 OR e.id < 4 ORDER BY e.id;
        SELECT count(*), sum(salary > 50000) FROM emp WHERE salary BETWEEN 40000 AND 60000;
        SELECT group_concat(name, ';') FROM (SELECT name FROM dept ORDER BY name DESC);
        SELECT upper(substr('memory checker', 1, 6)), length(printf('%.*c', 40, 'x')), hex('AB'), 7 / 2, 7 / 2.0;
        """;

    [Fact]
    public void Sqlite3_InMemoryScriptOnStdin()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/sqlite3", [":memory:"], stdin: Encoding.UTF8.GetBytes(SqlScript), environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("engineering|", native.StdoutText);
        Assert.Contains("ada      earns 0091000.50 in engineering", native.StdoutText);
    }

    private const string PerlScript = """
        my %count;
        $count{$_}++ for split /\s+/, "the quick brown fox jumps over the lazy dog the fox ends";
        for my $k (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count) {
            printf "%-6s %d\n", $k, $count{$k};
        }
        my @nums = map { ($_ * 7919) % 1000 } 1 .. 500;
        my @sorted = sort { $a <=> $b } @nums;
        my $sum = 0; $sum += $_ for @nums;
        printf "min=%d max=%d median=%d sum=%d\n", $sorted[0], $sorted[-1], $sorted[250], $sum;
        my $text = "2024-01-02 error code=17; 2024-03-04 warn code=5; 2025-12-31 error code=99";
        while ($text =~ /(\d{4})-(\d\d)-(\d\d) (\w+) code=(\d+)/g) {
            print sprintf("%s/%s/%s %-5s %03d", $3, $2, $1, $4, $5), "\n";
        }
        (my $doubled = $text) =~ s/code=(\d+)/"code=" . ($1 * 2)/ge;
        print "$doubled\n";
        print join(",", map { sprintf "%.4f", sqrt($_) } 1 .. 6), "\n";
        print scalar(reverse("checker")), " ", uc("memcheck"), " ", length($text), " ", 2 ** 40, "\n";
        """;

    [Fact]
    public void Perl_HashSortRegexSprintf()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/perl", ["-e", PerlScript], environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("the    3", native.StdoutText);
        Assert.Contains("02/01/2024 error 017", native.StdoutText);
    }

    private const string AwkProgram = """
        {
            count[$2]++; sum[$2] += $3; total += $3
            if ($3 > max) { max = $3; maxname = $1 }
            if (length($1) > length(longest)) longest = $1
        }
        END {
            n = split("alpha bravo charlie delta echo foxtrot golf hotel", keys, " ")
            for (i = 1; i <= n; i++) {
                k = keys[i]
                printf "%-8s %5d %9d %9.2f\n", k, count[k], sum[k], sum[k] / count[k]
            }
            printf "records=%d total=%d max=%d (%s) longest=%s\n", NR, total, max, maxname, longest
        }
        """;

    /// <summary>
    /// util-linux's script runs the command on a pseudo-terminal and waits for it through a signalfd,
    /// acting on a SIGCHLD only when its si_code says the child exited: memcheck forwarded the
    /// signal's number alone, and script waited for ever.
    /// </summary>
    [Fact]
    public void Script_RunsACommandOnAPseudoTerminalAndSeesItExit()
    {
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/script", ["-qec", "echo on a terminal; exit 3", "/dev/null"], environment: _cLocale);

        Assert.Equal(3, native.ExitCode);
        Assert.Contains("on a terminal", native.StdoutText);
    }

    [Fact]
    public void Awk_FieldsAndAssociativeArrays()
    {
        var dir = Scratch.NewDirectory("awk");
        var input = Path.Combine(dir, "records.txt");
        File.WriteAllBytes(input, TestData.AwkRecords(seed: 99, count: 20000));

        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/awk", [AwkProgram, input], environment: _cLocale);

        Assert.Equal(0, native.ExitCode);
        Assert.Contains("records=20000", native.StdoutText);
    }

    [Fact]
    public void Find_HeadersAndDirectories()
    {
        // find prints in directory order, which is the same natively and under memcheck; the
        // outputs are still sorted before comparing so that only the set of names matters.
        var (native, _) = NativeComparison.AssertSameBehaviour(
            "/usr/bin/find",
            ["/usr/share/doc/gcc-12-base", "/usr/include/linux", "-maxdepth", "1",
             "(", "-name", "*.h", "-o", "-type", "d", ")", "-print"],
            environment: _cLocale,
            normalizeStdout: NativeComparison.SortLines);

        Assert.Contains("/usr/include/linux/elf.h\n", native.StdoutText);
    }

    [Fact]
    public void Tar_CreateListAndExtract()
    {
        var dir = Scratch.NewDirectory("tar");
        var tree = Path.Combine(dir, "tree");
        Directory.CreateDirectory(tree);
        TestData.WriteTree(tree, seed: 5);

        // Fixed order, owners and times so both runs produce identical archive bytes.
        string[] create =
        [
            "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@1704164645",
            "-cf", "-", "-C", tree, ".",
        ];
        var (native, _) = NativeComparison.AssertSameBehaviour("/usr/bin/tar", create, environment: _cLocale);
        Assert.Equal(0, native.ExitCode);
        Assert.True(native.Stdout.Length >= 10240, "tar wrote less than one record");

        var archive = Path.Combine(dir, "tree.tar");
        File.WriteAllBytes(archive, native.Stdout);
        var (listing, _) = NativeComparison.AssertSameBehaviour("/usr/bin/tar", ["-tvf", archive], environment: _cLocale);
        Assert.Contains("./src/lib/deep/", listing.StdoutText);
        Assert.Contains("./docs/link-to-run -> ../src/run.sh", listing.StdoutText);

        // Extract under memcheck and check every file came back intact.
        var extracted = Path.Combine(dir, "extracted");
        Directory.CreateDirectory(extracted);
        var extract = MemcheckLauncher.RunToolNone("/usr/bin/tar", ["-xf", archive, "-C", extracted], environment: _cLocale);
        Assert.True(extract.ExitCode == 0,
            $"tar -xf under memcheck exited {extract.ExitCode}: {extract.StderrText}");
        foreach (var file in Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(tree, file);
            var copy = Path.Combine(extracted, relative);
            Assert.True(File.Exists(copy), $"{relative} was not extracted");
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(copy)),
                $"{relative} was extracted with different contents");
        }
    }

    private static void AssertRestored(byte[] original, RunResult decompressed)
    {
        Assert.True(decompressed.ExitCode == 0,
            $"{decompressed.CommandLine} exited {decompressed.ExitCode}: {decompressed.StderrText}");
        var diff = ByteDiff.Describe(original, decompressed.Stdout);
        Assert.True(diff is null, $"{decompressed.CommandLine} did not restore the original bytes: {diff}");
    }
}
