using System.Text;

namespace Checker.Reports.Sarif;

/// <summary>
/// Where a frame's file is, as SARIF says it: relative to the working directory memcheck ran in
/// (uriBaseId <see cref="BaseId"/>, which code scanning resolves against the repository's root when
/// memcheck runs there), or an absolute <c>file://</c> URI for a file outside it (a system header,
/// a library). Also decides which frames are the user's own code.
/// </summary>
public sealed class SourceRoot
{
    /// <summary>The uriBaseId of relative URIs (the name SARIF's examples and code scanning use).</summary>
    public const string BaseId = "SRCROOT";

    // Libraries and headers of the system: a frame there is not where a user fixes the bug.
    private static readonly string[] SystemPrefixes = ["/usr/lib/", "/usr/lib64/", "/lib/", "/lib64/", "/usr/include/", "/usr/libexec/"];

    private readonly string _directory;

    /// <param name="workingDirectory">An absolute directory.</param>
    public SourceRoot(string workingDirectory)
    {
        string full = Path.GetFullPath(workingDirectory);
        _directory = full.EndsWith('/') ? full : full + "/";
    }

    /// <summary>The working directory as a <c>file://</c> URI ending in '/', as originalUriBaseIds requires.</summary>
    public string DirectoryUri => FileUri(_directory);

    /// <summary>The file's path relative to the working directory, or null when it is outside.</summary>
    public string? Relative(string file) =>
        file.StartsWith(_directory, StringComparison.Ordinal) && file.Length > _directory.Length ? file[_directory.Length..] : null;

    /// <summary>
    /// The artifact URI of <paramref name="file"/> and its uriBaseId (null for an absolute URI). A
    /// relative path (DWARF of a library built elsewhere: libc's <c>../sysdeps/...</c>; locations
    /// use the module instead) stays a relative reference without a base: its root is unknown.
    /// </summary>
    public (string Uri, string? BaseId) Artifact(string file) =>
        Relative(file) is string relative ? (Escape(relative), (string?)BaseId)
        : Path.IsPathRooted(file) ? (FileUri(file), null)
        : (Escape(file), null);

    /// <summary>
    /// A frame in the user's own code: it has a source line (<see cref="HasSource"/>), is not memcheck's replacement of a
    /// library routine, and neither its module nor its file is the system's (/usr/lib, /lib,
    /// /usr/include: an inlined libc or libstdc++ header function is not the user's either).
    /// </summary>
    public static bool IsUserCode(ReportFrame frame) =>
        HasSource(frame) && !IsSystemPath(frame.File) && !IsSystemPath(frame.ModulePath);

    /// <summary>A frame whose source line a reader can open: an absolute file and a line, not in memcheck's replacement.</summary>
    public static bool HasSource(ReportFrame frame) => !frame.Replaced && frame.File != null && Path.IsPathRooted(frame.File) && frame.Line != null;

    /// <summary>
    /// The frame a result is located at: the innermost frame of user code, else the innermost with
    /// a source line, else the innermost in a module (module and offset), else null.
    /// </summary>
    public static ReportFrame? PrimaryFrame(IReadOnlyList<ReportFrame> stack) =>
        stack.FirstOrDefault(IsUserCode)
        ?? stack.FirstOrDefault(HasSource)
        ?? stack.FirstOrDefault(f => !f.Replaced && f.ModulePath != null);

    private static bool IsSystemPath(string? path) =>
        path != null && SystemPrefixes.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>An absolute path as a <c>file://</c> URI, each segment percent-encoded.</summary>
    public static string FileUri(string absolutePath) => "file://" + Escape(absolutePath);

    // Percent-encodes each segment (spaces, '#', '%', non-ASCII as UTF-8), keeping the '/'.
    private static string Escape(string path)
    {
        var text = new StringBuilder(path.Length);
        string[] segments = path.Split('/');
        for (int i = 0; i < segments.Length; i++)
        {
            if (i > 0) text.Append('/');
            text.Append(Uri.EscapeDataString(segments[i]));
        }
        return text.ToString();
    }
}
