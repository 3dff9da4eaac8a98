namespace Checker.Symbols.Symbolization;

/// <summary>
/// Source paths as reports show them: the line table's name joined with its directory and the
/// unit's DW_AT_comp_dir, normalised lexically (<c>/src/dir/../x.c</c> is <c>/src/x.c</c>), as
/// gdb shows them. Symlinks are not resolved: the path names what the compiler was given, and the
/// file need not exist on this machine.
/// </summary>
public static class SourcePath
{
    /// <summary>
    /// <paramref name="path"/> without <c>.</c> segments, <c>dir/..</c> pairs and repeated slashes.
    /// An absolute path stays absolute (<c>/..</c> is <c>/</c>); a relative one (Debian's libc is
    /// built with relative names) stays relative, keeping the <c>..</c> it starts with.
    /// </summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        bool absolute = path.StartsWith('/');
        var parts = new List<string>();
        foreach (string segment in path.Split('/'))
        {
            if (segment is "" or ".") continue;
            if (segment == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
                else if (!absolute) parts.Add(segment);
                continue;
            }
            parts.Add(segment);
        }
        string joined = string.Join('/', parts);
        return absolute ? "/" + joined : joined.Length > 0 ? joined : ".";
    }
}
