using System.Text;

namespace Checker.Memcheck;

/// <summary>What execve would run for a program: an ELF file, its arguments and AT_EXECFN.</summary>
/// <param name="Path">The ELF file to load (a script's interpreter).</param>
/// <param name="Argv">The argument vector it starts with.</param>
/// <param name="ExecFn">The path execve was given (the script's, for a script): AT_EXECFN.</param>
public sealed record ExecImage(string Path, IReadOnlyList<string> Argv, string ExecFn);

/// <summary>
/// A <c>#!</c> script runs its interpreter, checked under memcheck as Valgrind checks it, with the
/// rules of the kernel's binfmt_script: the first line within the first 256 bytes names the
/// interpreter and at most one argument (the rest of the line, spaces included); the interpreter
/// gets argv = [interpreter as written, argument if any, the script's path, the original argv[1..]];
/// an interpreter may itself be a script, five levels deep at most (then ELOOP); AT_EXECFN stays the
/// path execve was given and /proc/self/exe is the interpreter.
/// </summary>
public static class ScriptInterpreter
{
    /// <summary>How much of a file the kernel reads to look at it (BINPRM_BUF_SIZE).</summary>
    public const int HeaderBytes = 256;

    /// <summary>Scripts the kernel follows before the file it reaches must be a binary (it gives ELOOP beyond).</summary>
    public const int MaxScripts = 5;

    /// <summary>
    /// Follows <c>#!</c> lines from <paramref name="path"/> (the path execve would be given) to a file
    /// that is not a script; errors are worded as the kernel's errno for the exec, with the exit code
    /// a shell gives it (127 for ENOENT, else 126).
    /// </summary>
    public static (ExecImage? Image, string? Error, int ExitCode) Follow(string path, IReadOnlyList<string> argv)
    {
        string current = path;
        IReadOnlyList<string> arguments = argv;
        for (int scripts = 0; ; scripts++)
        {
            byte[] header;
            try { header = ReadHeader(current); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return (null, scripts == 0 ? $"{path}: cannot read it: {e.Message}" : BadInterpreter(path, current, e.Message), ExitCodes.CannotExecute);
            }
            if (header[0] != '#' || header[1] != '!') return (new ExecImage(current, arguments, path), null, 0);
            if (scripts == MaxScripts)
                return (null, $"{path}: too many levels of #! interpreters (the kernel follows {MaxScripts})", ExitCodes.CannotExecute);
            if (ParseLine(header) is not { } line)
                return (null, $"{path}: exec format error (its #! line names no interpreter within the first {HeaderBytes} bytes)", ExitCodes.CannotExecute);
            (string name, string? argument) = line;

            arguments = [name, .. argument is null ? Array.Empty<string>() : [argument], current, .. arguments.Skip(1)];
            if (InterpreterProblem(name) is (string problem, int code)) return (null, BadInterpreter(path, name, problem), code);
            current = name;
        }
    }

    /// <summary>
    /// The interpreter and optional argument of a <c>#!</c> line, as binfmt_script reads them from
    /// the file's first <see cref="HeaderBytes"/> bytes (NUL-padded when the file is shorter); null
    /// when it refuses the line (ENOEXEC): no interpreter, or a name cut off by the buffer's end.
    /// </summary>
    public static (string Name, string? Argument)? ParseLine(ReadOnlySpan<byte> header)
    {
        Span<byte> buffer = stackalloc byte[HeaderBytes];
        buffer.Clear();
        header[..Math.Min(header.Length, HeaderBytes)].CopyTo(buffer);
        int last = HeaderBytes - 1;

        // The line ends at a newline before any NUL; without one, only a name followed by a
        // space, tab or NUL is whole (arguments may be cut: the interpreter re-reads the script).
        int end = NewlineBeforeNul(buffer);
        if (end < 0)
        {
            int start = FirstNotSpaceOrTab(buffer, 2, last);
            if (start < 0 || FirstTerminator(buffer, start, last) < 0) return null;
            end = last;
        }
        while (end > 2 && IsSpaceOrTab(buffer[end - 1])) end--;

        int name = FirstNotSpaceOrTab(buffer, 2, end);
        if (name < 0 || name == end) return null;
        int separator = FirstTerminator(buffer, name, end);
        int argument = separator >= 0 && buffer[separator] != 0 ? FirstNotSpaceOrTab(buffer, separator, end) : -1;
        string nameText = CString(buffer, name, separator >= 0 ? separator : end);
        return (nameText, argument >= 0 ? CString(buffer, argument, end) : null);
    }

    /// <summary>Why the kernel would not run <paramref name="interpreter"/> (open_exec's errno), with the shell's exit code; null when it would.</summary>
    private static (string Problem, int ExitCode)? InterpreterProblem(string interpreter)
    {
        // "" is the working directory to open_exec, as to any lookup: EACCES.
        if (interpreter.Length == 0 || Directory.Exists(interpreter)) return ("permission denied (a directory)", ExitCodes.CannotExecute);
        if (!File.Exists(interpreter)) return ("no such file or directory", ExitCodes.NotFound);
        if ((File.GetUnixFileMode(interpreter) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            return ("permission denied (not executable)", ExitCodes.CannotExecute);
        return null;
    }

    private static string BadInterpreter(string script, string interpreter, string problem) =>
        $"{script}: bad interpreter {interpreter}: {problem}";

    private static byte[] ReadHeader(string path)
    {
        var header = new byte[HeaderBytes];
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
        int total = 0, read;
        while (total < HeaderBytes && (read = file.Read(header, total, HeaderBytes - total)) > 0) total += read;
        return header;
    }

    private static bool IsSpaceOrTab(byte b) => b is (byte)' ' or (byte)'\t';

    private static int NewlineBeforeNul(ReadOnlySpan<byte> buffer)
    {
        for (int i = 0; i < buffer.Length && buffer[i] != 0; i++)
            if (buffer[i] == '\n') return i;
        return -1;
    }

    /// <summary>First index in [from, to] (inclusive, as the kernel scans) that is not a space or tab; -1 if none.</summary>
    private static int FirstNotSpaceOrTab(ReadOnlySpan<byte> buffer, int from, int to)
    {
        for (int i = from; i <= to; i++)
            if (!IsSpaceOrTab(buffer[i])) return i;
        return -1;
    }

    /// <summary>First index in [from, to] holding a space, tab or NUL; -1 if none.</summary>
    private static int FirstTerminator(ReadOnlySpan<byte> buffer, int from, int to)
    {
        for (int i = from; i <= to; i++)
            if (IsSpaceOrTab(buffer[i]) || buffer[i] == 0) return i;
        return -1;
    }

    /// <summary>The bytes from <paramref name="start"/> up to <paramref name="end"/> or an earlier NUL.</summary>
    private static string CString(ReadOnlySpan<byte> buffer, int start, int end)
    {
        ReadOnlySpan<byte> text = buffer[start..end];
        int nul = text.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? text[..nul] : text);
    }
}
