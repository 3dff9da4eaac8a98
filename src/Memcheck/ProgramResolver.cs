namespace Checker.Memcheck;

/// <summary>Finds the program to run the way execvp does, and says why it cannot be run.</summary>
public static class ProgramResolver
{
    /// <summary>
    /// What execvp would run for <paramref name="command"/>: the program found on PATH, or for a
    /// <c>#!</c> script its interpreter (<see cref="ScriptInterpreter"/>); or an error message with the exit code to use.
    /// </summary>
    /// <param name="literalPath">The program is a path as execve takes it (relative to the working directory even without a '/'), not a command to search PATH for.</param>
    public static (ExecImage? Image, string? Error, int ExitCode) ResolveExec(IReadOnlyList<string> command, bool literalPath = false)
    {
        var (path, error, code) = Resolve(command[0], literalPath);
        return path == null ? (null, error, code) : ScriptInterpreter.Follow(path, command);
    }

    /// <summary>Returns the path to run, or an error message with the exit code to use.</summary>
    public static (string? Path, string? Error, int ExitCode) Resolve(string program, bool literalPath = false)
    {
        string? path = literalPath || program.Contains('/') ? program : SearchPath(program);
        if (path == null || (!File.Exists(path) && !Directory.Exists(path)))
            return (null, $"{program}: no such file or directory", ExitCodes.NotFound);
        if (Directory.Exists(path))
            return (null, $"{program}: is a directory", ExitCodes.CannotExecute);
        if (!IsExecutable(path))
            return (null, $"{program}: permission denied (not executable)", ExitCodes.CannotExecute);
        return (path, null, 0);
    }

    private static string? SearchPath(string name)
    {
        string pathVariable = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (string dir in pathVariable.Split(':'))
        {
            string candidate = Path.Combine(dir.Length == 0 ? "." : dir, name);
            if (File.Exists(candidate) && IsExecutable(candidate)) return candidate;
        }
        return null;
    }

    private static bool IsExecutable(string path)
    {
        UnixFileMode mode = File.GetUnixFileMode(path);
        return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }
}
