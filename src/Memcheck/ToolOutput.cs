using System.Runtime.Versioning;
using System.Text;
using Checker.Engine.Native;
using Microsoft.Win32.SafeHandles;

namespace Checker.Memcheck;

/// <summary>memcheck's own stderr: a private duplicate of fd 2, so the guest cannot close it under us.</summary>
[SupportedOSPlatform("linux")]
public static class ToolOutput
{
    /// <summary>The private descriptor memcheck writes to (-1 when fd 2 could not be duplicated).</summary>
    public static int Descriptor { get; private set; } = -1;

    public static void Redirect()
    {
        int fd = HostProcess.DuplicateForTool(2);
        if (fd < 0) return;
        Descriptor = fd;
        var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
        Console.SetError(new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true });
    }
}
