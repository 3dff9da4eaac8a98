using System.Buffers.Binary;
using System.Runtime.Versioning;
using System.Text;
using Checker.Engine.Native;

namespace Checker.Memcheck;

/// <summary>
/// Before memcheck follows an exec, what the kernel would make of it: once memcheck has exec'd
/// itself the program's exec cannot fail any more, so an exec the kernel would refuse (a script
/// whose interpreter is missing, a file that is neither ELF nor script, a missing ELF interpreter)
/// is left to the kernel, which gives the program its errno as natively (bash then runs a file
/// without #! as a script itself). Reads only headers: the #! lines, the ELF header and program
/// headers of the file that would run.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ExecProbe
{
    private const int ElfHeaderBytes = 64, ProgramHeaderBytes = 56, MaxProgramHeaders = 1024;
    private const ushort MachineX8664 = 62;
    private const uint PtInterp = 3;

    /// <summary>The outcome: follow it, leave it to the kernel (it fails or runs natively as the kernel decides), or run it natively for a reason worth a line.</summary>
    public enum Verdict { Follow, Kernel, Native }

    /// <returns>The verdict, the reason for a native run, and the ELF file that would run (the last interpreter of a script).</returns>
    /// <param name="path">The file the exec names, as the new process can open it.</param>
    /// <param name="argv">The exec's argv.</param>
    /// <param name="scriptAllowed">False when the kernel would refuse a #! script (named through a descriptor that closes on exec).</param>
    public static (Verdict Verdict, string? Reason, string? Elf) Check(string path, IReadOnlyList<string> argv, bool scriptAllowed)
    {
        // Execute-only files run natively, but memcheck must read what it loads.
        try { ReadAt(path, 0, 1); }
        catch (UnauthorizedAccessException) { return (Verdict.Native, $"memcheck cannot read {path}", null); }
        catch (IOException) { return (Verdict.Kernel, null, null); }
        var (image, error, _) = ScriptInterpreter.Follow(path, argv);
        if (image == null || error != null) return (Verdict.Kernel, null, null);
        if (image.Path != path && !scriptAllowed) return (Verdict.Kernel, null, null);
        string elf = image.Path;
        byte[] header;
        try { header = ReadAt(elf, 0, ElfHeaderBytes); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return (Verdict.Kernel, null, null); }
        if (header.Length < ElfHeaderBytes || header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F')
            return (Verdict.Kernel, null, null);
        if (BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18)) != MachineX8664)
            return (Verdict.Native, "it is not an x86-64 program", elf);
        if (InterpreterMissing(elf, header)) return (Verdict.Kernel, null, null);
        UnixFileMode mode = File.GetUnixFileMode(elf);
        if ((mode & (UnixFileMode.SetUser | UnixFileMode.SetGroup)) != 0)
            return (Verdict.Native, $"{elf} is set-user-ID or set-group-ID (under memcheck it would not get those rights)", elf);
        if (HostFiles.HasCapabilities(elf))
            return (Verdict.Native, $"{elf} has file capabilities (under memcheck it would not get them)", elf);
        return (Verdict.Follow, null, elf);
    }

    /// <summary>Whether the ELF file names an interpreter (its first PT_INTERP) that does not exist: the kernel's ENOENT.</summary>
    private static bool InterpreterMissing(string elf, byte[] header)
    {
        long phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(32));
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(54));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(56));
        if (phentsize != ProgramHeaderBytes || phnum == 0 || phnum > MaxProgramHeaders || phoff < 0) return false;
        try
        {
            byte[] table = ReadAt(elf, phoff, phnum * ProgramHeaderBytes);
            for (int i = 0; i + ProgramHeaderBytes <= table.Length; i += ProgramHeaderBytes)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(i)) != PtInterp) continue;
                long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(i + 8));
                long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(i + 32));
                if (size is < 2 or > 4096 || offset < 0) return false;
                byte[] name = ReadAt(elf, offset, (int)size);
                int nul = Array.IndexOf(name, (byte)0);
                string interpreter = Encoding.UTF8.GetString(name, 0, nul >= 0 ? nul : name.Length);
                return !File.Exists(interpreter);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        // Damage is for the loader to describe (memcheck says why, as it does for any program).
        return false;
    }

    private static byte[] ReadAt(string path, long offset, int length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
        file.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[length];
        int total = 0, read;
        while (total < length && (read = file.Read(buffer, total, length - total)) > 0) total += read;
        return total == length ? buffer : buffer[..total];
    }
}
