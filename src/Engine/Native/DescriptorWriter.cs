using System.Runtime.Versioning;
using System.Text;

namespace Checker.Engine.Native;

/// <summary>
/// Text to a file descriptor through plain write(2), whole lines at a time.
/// </summary>
/// <remarks>
/// memcheck's report shares its descriptor (a duplicate of the program's stderr) with the program:
/// with <c>&gt; log 2&gt;&amp;1</c> both write to one open file description, whose offset the kernel
/// advances for every write(2). A .NET FileStream over a seekable file keeps its own position and
/// writes at it (pwrite), so the report and the program's own output overwrote each other. Here
/// every call that completes lines hands them to the kernel in one write(2): ordered with the
/// program's writes, never split inside a line, and nothing held back when the process dies.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class DescriptorWriter(int fd) : TextWriter
{
    private readonly StringBuilder _pending = new();
    private readonly Lock _lock = new();

    public override Encoding Encoding => Encoding.UTF8;

    public int Descriptor => fd;

    public override void Write(char value)
    {
        lock (_lock)
        {
            _pending.Append(value);
            if (value == '\n') WriteCompleteLines();
        }
    }

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        lock (_lock)
        {
            _pending.Append(value);
            if (value.Contains('\n')) WriteCompleteLines();
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value) => Write((value ?? "") + "\n");

    /// <summary>Writes whatever is pending, a last unfinished line included.</summary>
    public override void Flush()
    {
        lock (_lock)
        {
            if (_pending.Length == 0) return;
            WriteAll(Encoding.UTF8.GetBytes(_pending.ToString()));
            _pending.Clear();
        }
    }

    private void WriteCompleteLines()
    {
        string text = _pending.ToString();
        int end = text.LastIndexOf('\n') + 1;
        WriteAll(Encoding.UTF8.GetBytes(text[..end]));
        _pending.Remove(0, end);
    }

    private unsafe void WriteAll(byte[] bytes)
    {
        fixed (byte* start = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                nint n = LibC.write(fd, start + done, (nuint)(bytes.Length - done));
                if (n > 0) { done += (int)n; continue; }
                // EINTR: try again; anything else (EPIPE, EBADF, a full disk): the report is lost
                // for this descriptor, and nothing more can be done about it from here.
                if (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 4) continue;
                return;
            }
        }
    }
}
