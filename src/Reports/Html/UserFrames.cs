namespace Checker.Reports.Html;

/// <summary>
/// Which frames are the program's own code: those the page shows source for, and the innermost of
/// which is an error's site (what the page groups errors by). A frame is the user's when it has a
/// source line, is not memcheck's replacement of a library routine, and its module and file are
/// not under the system's directories (libc with its debug file has lines too, in
/// <c>nptl/pthread_create.c</c>, but a reader wants the line of theirs that called it).
/// </summary>
internal static class UserFrames
{
    // Where the system's libraries and headers live; a program's own code is elsewhere.
    private static readonly string[] SystemPrefixes = ["/usr/", "/lib/", "/lib32/", "/lib64/", "/libx32/"];

    public static bool IsUser(ReportFrame frame) =>
        !frame.Replaced && frame.File is not null && frame.Line is not null
        && !IsSystem(frame.ModulePath) && !IsSystem(frame.File);

    /// <summary>
    /// The frame a reader looks at first: the innermost of the user's frames; without one (a
    /// program built without -g, a system program), the innermost frame with a source line, then
    /// the innermost with a name, then the innermost. Null for an empty stack.
    /// </summary>
    public static ReportFrame? Site(IReadOnlyList<ReportFrame> stack) =>
        stack.FirstOrDefault(IsUser)
        ?? stack.FirstOrDefault(f => f.File is not null && !f.Replaced)
        ?? stack.FirstOrDefault(f => f.Function is not null)
        ?? stack.FirstOrDefault();

    private static bool IsSystem(string? path) =>
        path is not null && SystemPrefixes.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal));
}
