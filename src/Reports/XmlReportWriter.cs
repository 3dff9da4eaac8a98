using System.Globalization;
using System.Text;
using System.Xml;
using Checker.Reports.Xml;

namespace Checker.Reports;

/// <summary>
/// Writes the report of <c>--xml FILE</c> in Valgrind's XML, protocol 4 for memcheck
/// (docs/internals/xml-output-protocol4.txt of Valgrind), so tools that read Valgrind's XML read
/// ours: the preamble, pids and arguments, <c>&lt;status&gt;</c> RUNNING, one <c>&lt;error&gt;</c>
/// per unique error found while the program ran, its death (<c>&lt;fatal_signal&gt;</c>, as
/// Valgrind 3.19 writes it), <c>&lt;status&gt;</c> FINISHED, the leak check's loss records,
/// <c>&lt;errorcounts&gt;</c> (how many times each error happened) and <c>&lt;suppcounts&gt;</c>.
/// An error's <c>&lt;unique&gt;</c> is its number less one, in hex (Valgrind counts from 0x0).
/// </summary>
public static class XmlReportWriter
{
    /// <summary>The protocol version written in <c>&lt;protocolversion&gt;</c>.</summary>
    public const int ProtocolVersion = 4;

    private static readonly XmlWriterSettings Settings = new()
    {
        Indent = true,
        IndentChars = "  ",
        NewLineChars = "\n",
        OmitXmlDeclaration = true, // written as Valgrind's, without an encoding (UTF-8 is the default)
        Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
    };

    /// <summary>
    /// Writes the report to <paramref name="path"/> through a temporary file in the same directory
    /// renamed over it, so a reader sees the old file or the whole new one, never half a file.
    /// </summary>
    public static void WriteFile(string path, RunInfo run, XmlRunDetails details, ErrorCollector collector) =>
        WriteFile(path, run, details, collector.Errors, collector.UsedSuppressions);

    /// <inheritdoc cref="WriteFile(string, RunInfo, XmlRunDetails, ErrorCollector)"/>
    public static void WriteFile(string path, RunInfo run, XmlRunDetails details, IReadOnlyList<ReportedError> errors,
        IReadOnlyList<(string Name, int Count)> suppressions)
    {
        ReportFile.Replace(path, run.Pid, stream => Write(stream, run, details, errors, suppressions));
    }

    /// <summary>Writes the report as UTF-8 XML to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, RunInfo run, XmlRunDetails details, IReadOnlyList<ReportedError> errors,
        IReadOnlyList<(string Name, int Count)> suppressions)
    {
        stream.Write("<?xml version=\"1.0\"?>\n\n"u8);
        using XmlWriter xml = XmlWriter.Create(stream, Settings);
        xml.WriteStartElement("valgrindoutput");
        Element(xml, "protocolversion", Number(ProtocolVersion));
        Element(xml, "protocoltool", "memcheck");
        Preamble(xml, run, details);
        Element(xml, "pid", Number(run.Pid));
        Element(xml, "ppid", Number(details.ParentPid));
        Element(xml, "tool", "memcheck");
        Arguments(xml, run, details);
        Status(xml, "RUNNING", details.Started);

        // As Valgrind: the errors found while the program ran, its death, FINISHED, then the leak check's.
        ReportedError[] leaks = errors.Where(e => e.Record.Leak is not null).ToArray();
        ReportedError[] others = errors.Where(e => e.Record.Leak is null).ToArray();
        foreach (ReportedError error in others) Error(xml, error, null);
        if (run.Death is DeathInfo death) FatalSignal(xml, death, errors);
        Status(xml, "FINISHED", details.Finished);
        for (int i = 0; i < leaks.Length; i++) Error(xml, leaks[i], (i + 1, leaks.Length));

        // Valgrind counts only the errors found while the program ran here, the latest first.
        xml.WriteStartElement("errorcounts");
        foreach (ReportedError error in others.Reverse())
        {
            xml.WriteStartElement("pair");
            Element(xml, "count", Number(error.Count));
            Element(xml, "unique", Unique(error));
            xml.WriteEndElement();
        }
        xml.WriteFullEndElement(); // <errorcounts></errorcounts> when empty, as Valgrind's

        xml.WriteStartElement("suppcounts");
        foreach ((string name, int count) in suppressions)
        {
            xml.WriteStartElement("pair");
            Element(xml, "count", Number(count));
            Element(xml, "name", name);
            xml.WriteEndElement();
        }
        xml.WriteFullEndElement();

        xml.WriteEndElement();
        xml.WriteWhitespace("\n");
    }

    private static void Preamble(XmlWriter xml, RunInfo run, XmlRunDetails details)
    {
        xml.WriteStartElement("preamble");
        Element(xml, "line", "Checker memcheck, a memory error detector");
        Element(xml, "line", $"Using memcheck {details.Version} (Valgrind's XML output, protocol 4)");
        Element(xml, "line", "Command: " + string.Join(' ', [run.Program, .. run.Args]));
        xml.WriteEndElement();
    }

    private static void Arguments(XmlWriter xml, RunInfo run, XmlRunDetails details)
    {
        xml.WriteStartElement("args");
        xml.WriteStartElement("vargv");
        Element(xml, "exe", details.ToolExecutable);
        foreach (string argument in details.ToolArguments) Element(xml, "arg", argument);
        xml.WriteEndElement();
        xml.WriteStartElement("argv");
        Element(xml, "exe", run.Program);
        foreach (string argument in run.Args) Element(xml, "arg", argument);
        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    /// <summary>Valgrind's time format, days:hours:minutes:seconds.milliseconds.</summary>
    private static void Status(XmlWriter xml, string state, TimeSpan elapsed)
    {
        xml.WriteStartElement("status");
        Element(xml, "state", state);
        Element(xml, "time", string.Create(CultureInfo.InvariantCulture,
            $"{elapsed.Days:00}:{elapsed.Hours:00}:{elapsed.Minutes:00}:{elapsed.Seconds:00}.{elapsed.Milliseconds:000}"));
        xml.WriteEndElement();
    }

    /// <param name="lossRecord">For a leak: its place among the loss records, and how many there are.</param>
    private static void Error(XmlWriter xml, ReportedError error, (int Number, int Of)? lossRecord)
    {
        ErrorRecord record = error.Record;
        xml.WriteStartElement("error");
        Element(xml, "unique", Unique(error));
        Element(xml, "tid", Number(record.Thread));
        Element(xml, "kind", ValgrindWording.Kind(record));
        if (record.Leak is LeakInfo leak && lossRecord is (int number, int of))
        {
            xml.WriteStartElement("xwhat");
            Element(xml, "text", ValgrindWording.LeakText(record, number, of));
            Element(xml, "leakedbytes", Number(leak.Bytes));
            Element(xml, "leakedblocks", Number(leak.Blocks));
            xml.WriteEndElement();
            Stack(xml, record.Stack);
        }
        else
        {
            Element(xml, "what", ValgrindWording.What(record));
            Stack(xml, record.Stack);
            foreach ((string text, IReadOnlyList<ReportFrame>? stack) in ValgrindWording.Auxiliary(record))
            {
                Element(xml, "auxwhat", text);
                if (stack is { Count: > 0 }) Stack(xml, stack);
            }
        }
        xml.WriteEndElement();
    }

    /// <summary>The program's death, as Valgrind 3.19 writes it before FINISHED (no si_code: memcheck does not keep it).</summary>
    private static void FatalSignal(XmlWriter xml, DeathInfo death, IReadOnlyList<ReportedError> errors)
    {
        xml.WriteStartElement("fatal_signal");
        int thread = errors.FirstOrDefault(e => e.Id == death.ErrorId)?.Record.Thread ?? 1;
        Element(xml, "tid", Number(thread));
        Element(xml, "signo", Number(death.Signal));
        Element(xml, "signame", death.Name);
        // A fault's headline; a signal sent by someone has no event in Valgrind's either.
        if (death.Pc is not null) Element(xml, "event", death.Description);
        if (death.Address is ulong address) Element(xml, "siaddr", Hex(address));
        if (death.Stack is { Count: > 0 } stack) Stack(xml, stack);
        xml.WriteEndElement();
    }

    /// <summary>A STACK: one or more frames, innermost first (a record without frames gets its unknown pc, 0x0, as one).</summary>
    private static void Stack(XmlWriter xml, IReadOnlyList<ReportFrame> frames)
    {
        xml.WriteStartElement("stack");
        foreach (ReportFrame frame in frames.Count > 0 ? frames : [new ReportFrame(0)])
        {
            xml.WriteStartElement("frame");
            Element(xml, "ip", "0x" + frame.Pc.ToString("X", CultureInfo.InvariantCulture));
            // A replaced routine has no object of the program's (Valgrind names its preload library).
            if (frame.ModulePath is string module && !frame.Replaced) Element(xml, "obj", module);
            if (frame.Function is string function) Element(xml, "fn", function);
            if (frame.File is string file && !frame.Replaced)
            {
                if (Path.GetDirectoryName(file) is { Length: > 0 } directory) Element(xml, "dir", directory);
                Element(xml, "file", Path.GetFileName(file));
                if (frame.Line is int line) Element(xml, "line", Number(line));
            }
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
    }

    private static void Element(XmlWriter xml, string name, string text) => xml.WriteElementString(name, XmlCharacters.Clean(text));

    private static string Unique(ReportedError error) => Hex((ulong)(error.Id - 1));

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
