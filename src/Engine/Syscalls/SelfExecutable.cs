using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// What /proc/self/exe means to the guest: its own executable (for a script, the interpreter), not
/// memcheck. memcheck holds an O_PATH descriptor of that file (one of its own, out of the guest's
/// range), and the guest's /proc/self/exe becomes /proc/self/fd/N of it, a link the kernel keeps
/// exactly as it keeps /proc/self/exe: the resolved path (symlinks followed), " (deleted)" once the
/// file is removed, and the same file to open even after a rename (Valgrind does the same).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SelfExecutable
{
    private const int OPath = 0x200000, OCloexec = 0x80000;

    /// <summary>"/proc/self/fd/N" as a NUL-terminated string the kernel can read, for the lifetime of the process.</summary>
    private readonly nint _linkPath;

    public SelfExecutable(string path, int minimumDescriptor)
    {
        Descriptor = HostProcess.OpenForTool(path, OPath | OCloexec, minimumDescriptor);
        if (Descriptor < 0) throw new EngineException($"cannot open {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        byte[] link = Encoding.ASCII.GetBytes($"/proc/self/fd/{Descriptor}\0");
        _linkPath = Marshal.AllocHGlobal(link.Length);
        Marshal.Copy(link, 0, _linkPath, link.Length);
    }

    /// <summary>memcheck's descriptor of the guest executable.</summary>
    public int Descriptor { get; }

    /// <summary>Address of "/proc/self/fd/N": what a guest system call naming /proc/self/exe is given instead.</summary>
    public ulong LinkPath => (ulong)_linkPath;

    /// <summary>The executable's path now, as readlink("/proc/self/exe") would give it natively.</summary>
    public string? CurrentPath()
    {
        try { return new FileInfo($"/proc/self/fd/{Descriptor}").LinkTarget; }
        catch (IOException) { return null; }
    }

    /// <summary>
    /// Whether <paramref name="path"/> names the process's own executable link: /proc/self/exe,
    /// /proc/thread-self/exe, /proc/PID/exe, /proc/{self,PID}/task/TID/exe (repeated slashes and
    /// "." allowed, as the kernel's path walk allows them).
    /// </summary>
    public static bool Names(string path, int pid, int tid)
    {
        if (!path.StartsWith('/')) return false;
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        string self = pid.ToString(), thread = tid.ToString();
        return parts switch
        {
            ["proc", var who, "exe"] => who == "self" || who == "thread-self" || who == self,
            ["proc", var who, "task", var task, "exe"] => (who == "self" || who == self) && task == thread,
            _ => false,
        };
    }
}
