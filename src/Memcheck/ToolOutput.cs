using System.Runtime.Versioning;
using Checker.Engine.Native;

namespace Checker.Memcheck;

/// <summary>memcheck's own stderr: a private duplicate of fd 2, so the guest cannot close it under us.</summary>
[SupportedOSPlatform("linux")]
public static class ToolOutput
{
    /// <summary>The private descriptor memcheck writes to (-1 when fd 2 could not be duplicated).</summary>
    public static int Descriptor { get; private set; } = -1;

    /// <param name="minimum">The lowest number it may have: the start of memcheck's descriptor range.</param>
    public static void Redirect(int minimum)
    {
        int fd = HostProcess.DuplicateForTool(2, minimum);
        if (fd < 0) return;
        Descriptor = fd;
        // write(2) on the shared open file, never a seekable FileStream (see DescriptorWriter).
        Console.SetError(new DescriptorWriter(fd));
    }
}
