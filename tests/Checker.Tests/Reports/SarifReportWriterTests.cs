using System.Text.Json;
using Checker.Reports;
using Checker.Reports.Sarif;
using Checker.Tests.EndToEnd;
using Xunit;

namespace Checker.Tests.Reports;

/// <summary>
/// The SARIF writer without running a program: the rules table, which frame a result is located
/// at, URIs, fingerprints, and reports with what real runs rarely give (frames without source,
/// replaced routines, an empty stack, an engine failure, an exec, paths with spaces and brackets)
/// through Microsoft's validator.
/// </summary>
public class SarifReportWriterTests
{
    private const string Exe = "/src/app/x";

    private static ReportFrame User(ulong pc, string function, int line, string file = "/src/app/x.c") => new(pc, Exe, pc & 0xffff, function, file, line);

    private static ReportFrame Libc(ulong pc, string function) => new(pc, "/usr/lib/x86_64-linux-gnu/libc.so.6", pc & 0xfffff, function, SymbolOffset: 0x12);

    [Fact]
    public void OneRulePerKind_IdsAreTheJsonNames_WithHelpAndLevels()
    {
        Assert.Equal(ErrorKinds.All.Select(k => k.JsonName), SarifRules.All.Select(r => r.Id));
        Assert.All(SarifRules.All, rule =>
        {
            Assert.Equal(rule, rule.Kind.Rule());
            Assert.Matches("^[A-Z][A-Za-z]+$", rule.Name);
            Assert.Contains("How to fix:", rule.Help);
            Assert.EndsWith(".", rule.ShortDescription);
            Assert.Contains(rule.Tags, tag => tag.StartsWith("external/cwe/cwe-", StringComparison.Ordinal));
        });
        Assert.Equal("error", ErrorKind.Unaddressable.Rule().Level);
        Assert.Equal("error", ErrorKind.Uninitialized.Rule().Level);
        Assert.Equal("error", ErrorKind.InvalidHeapArgument.Rule().Level);
        Assert.Equal("warning", ErrorKind.PossibleLeak.Rule().Level);
    }

    [Fact]
    public void PrimaryFrame_InnermostUserCode_ThenAnySource_ThenAModule()
    {
        ReportFrame replaced = new(0x7000, "/opt/memcheck/libchecker-replace.so", 0x10, "strlen", Replaced: true);
        ReportFrame header = new(0x1100, Exe, 0x1100, "__builtin_memcpy_chk", "/usr/include/x86_64-linux-gnu/bits/string_fortified.h", 29, Inlined: true);
        ReportFrame libcWithSource = new(0x7f0001, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0xf834e, "__libc_write", "/build/glibc/write.c", 26);
        ReportFrame libcRelative = new(0x7f0002, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0xf834e, "__libc_write", "../sysdeps/unix/write.c", 26);

        Assert.Equal("copy", SourceRoot.PrimaryFrame([replaced, header, User(0x1100, "copy", 12), User(0x1200, "main", 30)])!.Function);
        Assert.Equal("write_all", SourceRoot.PrimaryFrame([libcRelative, libcWithSource, User(0x1300, "write_all", 40)])!.Function);
        // No user code: the innermost frame with a readable source, then the innermost module.
        Assert.Same(libcWithSource, SourceRoot.PrimaryFrame([replaced, libcRelative, libcWithSource]));
        Assert.Equal("malloc", SourceRoot.PrimaryFrame([replaced, Libc(0x7f0003, "malloc")])!.Function);
        Assert.Null(SourceRoot.PrimaryFrame([replaced, new ReportFrame(0x414141)]));
    }

    [Fact]
    public void Uris_RelativeInsideTheWorkingDirectory_AbsoluteFileUrisOutside_Escaped()
    {
        var root = new SourceRoot("/src/my app");
        Assert.Equal("file:///src/my%20app/", root.DirectoryUri);
        Assert.Equal(("lib/a%23b%20%C3%A4.c", (string?)"SRCROOT"), root.Artifact("/src/my app/lib/a#b ä.c"));
        Assert.Equal(("file:///src/my%20apple/x.c", (string?)null), root.Artifact("/src/my apple/x.c"));
        Assert.Equal(("../sysdeps/unix/write.c", (string?)null), root.Artifact("../sysdeps/unix/write.c"));
        Assert.Equal("file:///src/my%20app/", new SourceRoot("/src/my app/").DirectoryUri);
    }

    [Fact]
    public void Fingerprint_IgnoresAddresses_FollowsTheLineTextNotItsNumber()
    {
        string directory = Scratch.NewDirectory("sarif-fingerprint");
        string file = Path.Combine(directory, "x.c");
        File.WriteAllLines(file, ["int main(void)", "{", "    p[10] = 1;", "    q[10] = 1;", "}"]);
        var root = new SourceRoot(directory);
        StackFingerprint Fingerprints() => new(root, new SourceLines());

        string first = Fingerprints().Next("unaddressable", [User(0x555555555149, "main", 3, file)]);
        // Another load address (ASLR), the same line: the same error.
        Assert.Equal(first, Fingerprints().Next("unaddressable", [User(0x7f5555555149, "main", 3, file)]));
        // Another line, another rule, another function: another error.
        Assert.NotEqual(first, Fingerprints().Next("unaddressable", [User(0x555555555149, "main", 4, file)]));
        Assert.NotEqual(first, Fingerprints().Next("uninitialized", [User(0x555555555149, "main", 3, file)]));
        Assert.NotEqual(first, Fingerprints().Next("unaddressable", [User(0x555555555149, "helper", 3, file)]));
        // Lines added above: the line's number moves, its text (whitespace aside) does not.
        File.WriteAllLines(file, ["#include <stdlib.h>", "", "int main(void)", "{", "\tp[10]   = 1;", "    q[10] = 1;", "}"]);
        Assert.Equal(first, Fingerprints().Next("unaddressable", [User(0x555555555149, "main", 5, file)]));
        // Library frames do not count; two results that hash alike get ordinals.
        StackFingerprint run = Fingerprints();
        string a = run.Next("unaddressable", [Libc(0x7f0000001000, "memcpy"), User(0x555555555149, "main", 5, file)]);
        string b = run.Next("unaddressable", [User(0x555555555149, "main", 5, file)]);
        Assert.Equal(first, a);
        Assert.Equal(first[..^2] + ":2", b);
        Assert.EndsWith(":1", first);
    }

    /// <summary>A report with every kind of frame and an engine failure, validated; what each part says.</summary>
    [Fact]
    public void UnusualFramesAndEndings_PassTheValidator()
    {
        string directory = Scratch.NewDirectory("sarif [odd] dir ä");
        string source = Path.Combine(directory, "src", "main file.c");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        File.WriteAllLines(source, Enumerable.Range(1, 40).Select(i => $"line {i};"));
        ReportFrame main = new(0x555555555149, Path.Combine(directory, "app"), 0x1149, "main", source, 20);
        ReportFrame replaced = new(0x7000, "/opt/m/libchecker-replace.so", 0x10, "strlen", Replaced: true);
        ReportFrame noSource = new(0x7f0000098942, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x98942, "malloc", SymbolOffset: 0x12);
        ReportFrame relative = new(0x7f00000f834e, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0xf834e, "__libc_write", "../sysdeps/unix/write.c", 26);
        ReportFrame nowhere = new(0x414141414141);

        var collector = new ErrorCollector();
        collector.Add(new ErrorRecord(ErrorKind.Overlap, "source and destination overlap in strcpy(0x10, 0x12) [sic]", 1, [replaced, main]));
        collector.Add(new ErrorRecord(ErrorKind.Unaddressable, "executing code at 0x414141414141", 2, [nowhere, main], "not within a mapped region",
            new AccessInfo(AccessType.Execute, 0x414141414141, 1)));
        collector.Add(new ErrorRecord(ErrorKind.Uninitialized, "write parameter buf[7..9] is undefined", 1, [relative, noSource]));
        collector.Add(new ErrorRecord(ErrorKind.Leak, "16 direct bytes in 1 block", 1, [], Leak: new LeakInfo(16, 1, false, 0)));
        collector.Add(new ErrorRecord(ErrorKind.InvalidHeapArgument, "free 0x50000: the block was already freed (double free)", 1, [noSource, main],
            Block: new BlockInfo(0x50000, 10, BlockState.Freed, [noSource, main with { Line = 10 }], [noSource, main with { Line = 15 }])));
        var run = new RunInfo(Path.Combine(directory, "app"), ["a b"], 4242, 0, EngineFailure: new EngineFailureInfo("an instruction not built yet"));
        string path = Path.Combine(directory, "report.sarif");
        SarifReportWriter.WriteFile(path, run, collector, new SarifToolInfo("1.2.3", ["/opt/m/memcheck", "--sarif", path, "--", run.Program, "a b"], directory));

        // SARIF2017: a result located in a module without source (libc's bytes have no lines) or at
        // the program itself has no region; real runs have neither (a test of each kind checks).
        IReadOnlyList<SarifFinding> findings = SarifValidator.AssertValid(path, "SARIF2017");
        Assert.Equal(["runs[0].results[2].locations[0].physicalLocation", "runs[0].results[3].locations[0].physicalLocation"],
            findings.Where(f => f.RuleId == "SARIF2017").Select(f => f.Path).Order());
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement sarifRun = document.RootElement.GetProperty("runs")[0];
        JsonElement invocation = sarifRun.GetProperty("invocations")[0];
        Assert.False(invocation.GetProperty("executionSuccessful").GetBoolean());
        Assert.Equal("error", invocation.GetProperty("toolExecutionNotifications")[0].GetProperty("level").GetString());
        Assert.EndsWith("-- '" + run.Program + "' 'a b'", invocation.GetProperty("commandLine").GetString());
        JsonElement[] results = sarifRun.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(5, results.Length);
        // The overlap is at main's line (strlen is memcheck's), its literal brackets escaped.
        JsonElement location = results[0].GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.Equal(("src/main%20file.c", "SRCROOT", 20), (location.GetProperty("artifactLocation").GetProperty("uri").GetString(),
            location.GetProperty("artifactLocation").GetProperty("uriBaseId").GetString(), location.GetProperty("region").GetProperty("startLine").GetInt32()));
        Assert.Equal("line 20;\n", location.GetProperty("region").GetProperty("snippet").GetProperty("text").GetString());
        Assert.Equal(18, location.GetProperty("contextRegion").GetProperty("startLine").GetInt32());
        Assert.Contains("\\[sic\\]", results[0].GetProperty("message").GetProperty("text").GetString());
        // Without user code or a readable source: libc's module and offset (the relative DWARF path cannot be opened).
        JsonElement module = results[2].GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.Equal("file:///usr/lib/x86_64-linux-gnu/libc.so.6", module.GetProperty("artifactLocation").GetProperty("uri").GetString());
        Assert.Equal((0xf834e, "libc.so.6+0xf834e"), (module.GetProperty("address").GetProperty("relativeAddress").GetInt32(),
            module.GetProperty("address").GetProperty("name").GetString()));
        // A leak without a stack is located at the program.
        Assert.Equal("app", results[3].GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString());
        // The double free: allocation and free stacks as code flows, their user frames related.
        Assert.Equal(3, results[4].GetProperty("codeFlows").GetArrayLength());
        Assert.Equal([10, 15], results[4].GetProperty("relatedLocations").EnumerateArray()
            .Select(r => r.GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32()));
    }
}
