using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Engine.Syscalls;

namespace Checker.Memcheck;

/// <summary>
/// Where memcheck's own lines go: a private duplicate of fd 2 (so the guest cannot close it under
/// us), or the <c>--log-file</c>. Both are memcheck's descriptors, out of the program's reach.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ToolOutput
{
    /// <summary>The private descriptor memcheck writes to (-1 when fd 2 could not be duplicated).</summary>
    public static int Descriptor { get; private set; } = -1;

    private static string? _logTemplate;
    private static int _minimum = HostProcess.DefaultToolDescriptorStart;

    /// <param name="minimum">The lowest number it may have: the start of memcheck's descriptor range.</param>
    public static void Redirect(int minimum)
    {
        _minimum = minimum;
        int fd = HostProcess.DuplicateForTool(2, minimum);
        if (fd < 0) return;
        Use(fd);
    }

    /// <summary>
    /// --log-file: memcheck's lines go to the file <paramref name="template"/> names from now on
    /// (<see cref="LogFileName"/>). The process memcheck started empties it; a program exec'd under
    /// memcheck (<paramref name="append"/>) adds to it. Returns why it cannot be opened, or null.
    /// </summary>
    public static string? LogTo(string template, bool append)
    {
        string path = LogFileName.Expand(template, HostProcess.Id);
        int fd = HostProcess.CreateForTool(path, truncate: !append, _minimum);
        if (fd < 0) return $"--log-file {path}: {Marshal.GetPInvokeErrorMessage(-fd)}";
        if (Descriptor >= 0) LibC.close(Descriptor);
        _logTemplate = template;
        Use(fd);
        return null;
    }

    /// <summary>
    /// In a forked child: a log file named by pid (%p) becomes the child's own, emptied; one without
    /// %p stays shared (appended to, each line naming its pid).
    /// </summary>
    public static void Forked(GuestProcess process)
    {
        if (_logTemplate is not string template || !LogFileName.NamesProcess(template) || Descriptor < 0) return;
        int fd = HostProcess.CreateForTool(LogFileName.Expand(template, HostProcess.Id), truncate: true, _minimum);
        if (fd < 0) return; // the parent's file goes on taking the child's lines
        int old = Descriptor;
        Use(fd);
        process.ToolDescriptors.Remove(old);
        process.ToolDescriptors.Add(fd);
        LibC.close(old);
    }

    // Installed once as Console.Error, so writers that captured it (the text report's) follow a switch.
    private static readonly Forwarder Output = new();

    private static void Use(int fd)
    {
        Descriptor = fd;
        Console.Error.Flush();
        // write(2) on the shared open file, never a seekable FileStream (see DescriptorWriter).
        Output.Target = new DescriptorWriter(fd);
        if (Console.Error != Output) Console.SetError(Output);
    }

    /// <summary>A TextWriter whose lines go to the current descriptor.</summary>
    private sealed class Forwarder : TextWriter
    {
        public volatile TextWriter Target = TextWriter.Null;

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => Target.Write(value);
        public override void Write(string? value) => Target.Write(value);
        public override void Write(char[] buffer, int index, int count) => Target.Write(buffer, index, count);
        public override void WriteLine(string? value) => Target.WriteLine(value);
        public override void Flush() => Target.Flush();
    }
}
