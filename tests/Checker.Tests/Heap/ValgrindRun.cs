using System.Xml.Linq;
using Checker.Tests.EndToEnd;

namespace Checker.Tests.Heap;

/// <summary>One error of valgrind's XML report: its kind in memcheck's terms and the line of the first frame in the case's source (0: none).</summary>
internal sealed record ValgrindError(string Kind, string ValgrindKind, int Line, string What)
{
    /// <summary>For a leak: the bytes lost directly (xwhat's leakedbytes).</summary>
    public ulong LeakedBytes { get; init; }
}

/// <summary>A run of the installed valgrind (memcheck, --leak-check=full) with its XML report parsed, to compare memcheck's errors with.</summary>
/// <param name="ClientMessages">The text of each VALGRIND_PRINTF (valgrind puts them in the XML).</param>
internal sealed record ValgrindRun(RunResult Run, IReadOnlyList<ValgrindError> Errors, IReadOnlyList<string> ClientMessages)
{
    public const string Path = "/usr/bin/valgrind";

    public static ValgrindRun Of(string program, string source, params string[] arguments)
    {
        string xml = System.IO.Path.Combine(Scratch.NewDirectory("valgrind-xml"), "valgrind.xml");
        RunResult run = ProcessRunner.Run(Path, ["-q", "--leak-check=full", "--xml=yes", $"--xml-file={xml}", program, .. arguments]);
        XElement root = XDocument.Load(xml).Root!;
        var errors = root.Elements("error").Select(e =>
        {
            string kind = e.Element("kind")!.Value;
            string what = e.Element("what")?.Value ?? e.Element("xwhat")?.Element("text")?.Value ?? "";
            XElement? frame = e.Element("stack")?.Elements("frame").FirstOrDefault(f => f.Element("file")?.Value == source);
            return new ValgrindError(MemcheckKind(kind, what), kind, frame != null ? int.Parse(frame.Element("line")!.Value) : 0, what)
            {
                LeakedBytes = ulong.TryParse(e.Element("xwhat")?.Element("leakedbytes")?.Value, out ulong bytes) ? bytes : 0,
            };
        }).ToList();
        return new ValgrindRun(run, errors, root.Elements("clientmsg").Select(m => m.Element("text")!.Value).ToList());
    }

    /// <summary>Valgrind's error kind as memcheck's JSON kind (a ClientCheck by what it found).</summary>
    private static string MemcheckKind(string kind, string what) => kind switch
    {
        "InvalidRead" or "InvalidWrite" or "InvalidJump" => "unaddressable",
        "UninitCondition" or "UninitValue" or "SyscallParam" => "uninitialized",
        "ClientCheck" => what.StartsWith("Uninitialised", StringComparison.Ordinal) ? "uninitialized" : "unaddressable",
        "Leak_DefinitelyLost" => "leak",
        "Leak_PossiblyLost" => "possible-leak",
        "InvalidFree" or "MismatchedFree" or "InvalidMemPool" => "invalid-heap-arg",
        _ => kind,
    };
}
