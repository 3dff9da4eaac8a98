using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Checker.Tests.Reports;

/// <summary>
/// Valgrind's XML output, protocol 4 for memcheck (Valgrind's docs/internals/xml-output-protocol4.txt),
/// checked where the protocol is strict: the top-level order, HEX64 uniques, integer tids, pids,
/// lines and counts, the kinds, an error's field order, the frames' fields and their order, and
/// errorcounts naming only errors that were written. Valgrind's own files pass it (the tests
/// check that too), so it holds nothing Valgrind does not.
/// </summary>
internal static partial class ValgrindXmlShape
{
    // The protocol's memcheck kinds, and FishyValue, which Valgrind 3.19 writes though the text predates it.
    private static readonly HashSet<string> Kinds =
    [
        "InvalidFree", "MismatchedFree", "InvalidRead", "InvalidWrite", "InvalidJump", "Overlap", "InvalidMemPool",
        "UninitCondition", "UninitValue", "SyscallParam", "ClientCheck", "FishyValue",
        "Leak_DefinitelyLost", "Leak_IndirectlyLost", "Leak_PossiblyLost", "Leak_StillReachable",
    ];

    private static readonly string[] FrameFields = ["ip", "obj", "fn", "dir", "file", "line"];

    [GeneratedRegex("^0x[0-9a-fA-F]+$")]
    private static partial Regex Hex64();

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Integer();

    /// <summary>Every way <paramref name="document"/> breaks the protocol (empty: none).</summary>
    public static List<string> Problems(XDocument document)
    {
        var problems = new List<string>();
        XElement? root = document.Root;
        if (root?.Name != "valgrindoutput") return ["the root is not <valgrindoutput>"];
        XElement[] top = root.Elements().ToArray();
        string[] head = ["protocolversion", "protocoltool", "preamble", "pid", "ppid", "tool"];
        for (int i = 0; i < head.Length; i++)
        {
            if (i >= top.Length || top[i].Name != head[i]) problems.Add($"top-level element {i} is not <{head[i]}>");
        }
        if (problems.Count > 0) return problems;
        Expect(problems, top[0].Value == "4", "protocolversion is not 4");
        Expect(problems, top[1].Value == "memcheck", "protocoltool is not memcheck");
        Expect(problems, top[2].Elements().All(e => e.Name == "line"), "preamble holds something else than <line>");
        Expect(problems, Integer().IsMatch(top[3].Value) && Integer().IsMatch(top[4].Value), "pid or ppid is not an integer");

        // Then %q qualifiers and a user comment (optional), args, RUNNING, errors..., FINISHED, errors..., suppcounts.
        int at = 6;
        while (at < top.Length && top[at].Name.LocalName is "logfilequalifier" or "usercomment") at++;
        if (at >= top.Length || top[at].Name != "args") return [.. problems, "no <args> after the preamble"];
        CheckArgs(problems, top[at++]);
        if (at >= top.Length || !IsStatus(top[at], "RUNNING")) return [.. problems, "no RUNNING <status> after <args>"];
        at++;
        var uniques = new HashSet<string>();
        var counted = new List<string>();
        bool finished = false;
        for (; at < top.Length - 1; at++)
        {
            XElement e = top[at];
            if (e.Name == "error") CheckError(problems, e, uniques);
            else if (e.Name == "errorcounts") CheckErrorCounts(problems, e, counted);
            else if (e.Name == "fatal_signal" && !finished) CheckFatalSignal(problems, e);
            else if (IsStatus(e, "FINISHED") && !finished) finished = true;
            else problems.Add($"unexpected top-level <{e.Name}> (element {at})");
        }
        Expect(problems, finished, "no FINISHED <status>");
        if (top.Length == 0 || top[^1].Name != "suppcounts") problems.Add("the last element is not <suppcounts>");
        else CheckSuppCounts(problems, top[^1]);
        foreach (string unique in counted.Where(u => !uniques.Contains(u))) problems.Add($"errorcounts names {unique}, which no error has");
        return problems;
    }

    private static void CheckArgs(List<string> problems, XElement args)
    {
        string[] parts = args.Elements().Select(e => e.Name.LocalName).ToArray();
        Expect(problems, parts.SequenceEqual(["vargv", "argv"]), $"<args> holds {string.Join(",", parts)}, not vargv,argv");
        foreach (XElement argv in args.Elements())
        {
            string[] names = argv.Elements().Select(e => e.Name.LocalName).ToArray();
            Expect(problems, names.Length > 0 && names[0] == "exe" && names.Skip(1).All(n => n == "arg"), $"<{argv.Name}> is not exe, arg...");
        }
    }

    private static bool IsStatus(XElement e, string state) =>
        e.Name == "status" && e.Elements().Select(c => c.Name.LocalName).SequenceEqual(["state", "time"]) && e.Element("state")!.Value == state;

    private static void CheckError(List<string> problems, XElement error, HashSet<string> uniques)
    {
        XElement[] fields = error.Elements().ToArray();
        string where = $"error {error.Element("unique")?.Value ?? "?"}";
        if (fields.Length < 5 || fields[0].Name != "unique" || fields[1].Name != "tid" || fields[2].Name != "kind")
        {
            problems.Add($"{where} does not start with unique, tid, kind");
            return;
        }
        Expect(problems, Hex64().IsMatch(fields[0].Value), $"{where}: unique is not HEX64");
        Expect(problems, uniques.Add(fields[0].Value), $"{where}: unique written twice");
        Expect(problems, Integer().IsMatch(fields[1].Value), $"{where}: tid is not an integer");
        Expect(problems, Kinds.Contains(fields[2].Value), $"{where}: kind {fields[2].Value} is not memcheck's");
        int at = 3;
        int whats = 0;
        while (at < fields.Length && fields[at].Name.LocalName is "what" or "xwhat")
        {
            if (fields[at].Name == "xwhat") CheckXwhat(problems, fields[at], where);
            at++;
            whats++;
        }
        Expect(problems, whats is 1 or 2, $"{where}: {whats} what/xwhat, not 1 or 2");
        while (at < fields.Length && fields[at].Name.LocalName is "leakedbytes" or "leakedblocks")
            Expect(problems, Integer().IsMatch(fields[at++].Value), $"{where}: leaked bytes/blocks not an integer");
        if (at >= fields.Length || fields[at].Name != "stack")
        {
            problems.Add($"{where}: no <stack> after what");
            return;
        }
        for (; at < fields.Length; at++)
        {
            XElement field = fields[at];
            if (field.Name == "stack") CheckStack(problems, field, where);
            else if (field.Name == "origin") Expect(problems, field.Element("what") is not null && field.Element("stack") is not null, $"{where}: origin without what and stack");
            else if (field.Name == "suppression") Expect(problems, at == fields.Length - 1, $"{where}: suppression not last");
            else Expect(problems, field.Name == "auxwhat" && !field.HasElements, $"{where}: unexpected <{field.Name}>");
        }
    }

    private static void CheckXwhat(List<string> problems, XElement xwhat, string where)
    {
        Expect(problems, xwhat.Elements().FirstOrDefault()?.Name == "text", $"{where}: xwhat without <text> first");
        foreach (XElement number in xwhat.Elements().Where(e => e.Name == "leakedbytes" || e.Name == "leakedblocks"))
            Expect(problems, Integer().IsMatch(number.Value), $"{where}: {number.Name} is not an integer");
    }

    private static void CheckStack(List<string> problems, XElement stack, string where)
    {
        XElement[] frames = stack.Elements().ToArray();
        Expect(problems, frames.Length > 0 && frames.All(f => f.Name == "frame"), $"{where}: a stack is not one or more frames");
        foreach (XElement frame in frames)
        {
            string[] names = frame.Elements().Select(e => e.Name.LocalName).ToArray();
            // The protocol's order, each field at most once, ip always.
            int[] order = names.Select(n => Array.IndexOf(FrameFields, n)).ToArray();
            bool ordered = order.All(i => i >= 0) && order.Zip(order.Skip(1)).All(p => p.First < p.Second);
            Expect(problems, ordered && names.FirstOrDefault() == "ip", $"{where}: frame fields {string.Join(",", names)}");
            Expect(problems, Hex64().IsMatch(frame.Element("ip")?.Value ?? ""), $"{where}: frame ip is not HEX64");
            if (frame.Element("line") is XElement line) Expect(problems, Integer().IsMatch(line.Value), $"{where}: frame line is not an integer");
        }
    }

    private static void CheckErrorCounts(List<string> problems, XElement counts, List<string> counted)
    {
        foreach (XElement pair in counts.Elements())
        {
            bool shaped = pair.Name == "pair" && pair.Elements().Select(e => e.Name.LocalName).SequenceEqual(["count", "unique"]);
            Expect(problems, shaped && Integer().IsMatch(pair.Element("count")!.Value) && Hex64().IsMatch(pair.Element("unique")!.Value),
                "an errorcounts pair is not count (integer), unique (HEX64)");
            if (shaped) counted.Add(pair.Element("unique")!.Value);
        }
    }

    private static void CheckSuppCounts(List<string> problems, XElement counts)
    {
        foreach (XElement pair in counts.Elements())
        {
            bool shaped = pair.Name == "pair" && pair.Elements().Select(e => e.Name.LocalName).SequenceEqual(["count", "name"]);
            Expect(problems, shaped && Integer().IsMatch(pair.Element("count")!.Value), "a suppcounts pair is not count (integer), name");
        }
    }

    private static void CheckFatalSignal(List<string> problems, XElement signal)
    {
        Expect(problems, Integer().IsMatch(signal.Element("tid")?.Value ?? "") && Integer().IsMatch(signal.Element("signo")?.Value ?? ""),
            "fatal_signal without an integer tid and signo");
        if (signal.Element("stack") is XElement stack) CheckStack(problems, stack, "fatal_signal");
    }

    private static void Expect(List<string> problems, bool condition, string problem)
    {
        if (!condition) problems.Add(problem);
    }
}
