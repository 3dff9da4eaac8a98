namespace Checker.MemcheckTool.Replacements;

/// <summary>
/// The guest-side replacements for libc's string and memory routines (Replacements/string_replacements.c,
/// built into <see cref="FileName"/> next to the binary). glibc's vectorized versions read past a
/// string's terminator or past n, which the checker would report; the engine maps this object into
/// the guest and redirects libc's functions of the same names to it, so they run as translated guest
/// code that reads exactly what the C standard says.
/// </summary>
public static class StringReplacements
{
    /// <summary>The shared object's file name (also its DT_SONAME).</summary>
    public const string FileName = "libchecker-replace.so";

    /// <summary>The shared object next to the running binary (copied there by the Engine build).</summary>
    public static string LibraryPath => Path.Combine(AppContext.BaseDirectory, FileName);

    /// <summary>
    /// Every libc function the object replaces; each is exported by it under the same name and
    /// signature (checked by a test against the .so's .dynsym).
    /// </summary>
    public static readonly IReadOnlyList<string> FunctionNames =
    [
        "memcpy", "memmove", "mempcpy", "memccpy", "memset", "memcmp", "bcmp", "memchr", "memrchr", "rawmemchr",
        "strlen", "strnlen", "strchr", "strrchr", "strchrnul", "strcmp", "strncmp", "strcasecmp", "strncasecmp",
        "strcpy", "strncpy", "stpcpy", "stpncpy", "strcat", "strncat", "strstr", "strspn", "strcspn", "strpbrk",
        "wcslen", "wcsnlen", "wcscmp", "wcschr", "wmemset", "wmemcpy", "wmemchr",
        "wcscpy", "wcpcpy", "wcscat", "wcsrchr", "wcsncmp", "wmemcmp",
    ];

    /// <summary>
    /// Other names of the same routines, redirected to the replacement named on the right: BSD
    /// index/rindex (ld.so's private strchr is called index) and the _l variants, whose locale
    /// argument the replacements ignore (they fold ASCII, as in the C locale).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>
    {
        ["index"] = "strchr",
        ["rindex"] = "strrchr",
        ["strcasecmp_l"] = "strcasecmp",
        ["__strcasecmp_l"] = "strcasecmp",
        ["__strcasecmp"] = "strcasecmp",
        ["strncasecmp_l"] = "strncasecmp",
        ["__strncasecmp_l"] = "strncasecmp",
        ["__strncasecmp"] = "strncasecmp",
        ["__mempcpy"] = "mempcpy",
        ["__stpcpy"] = "stpcpy",
        ["__stpncpy"] = "stpncpy",
        ["__memcpy"] = "memcpy",
        ["__memset"] = "memset",
        ["__rawmemchr"] = "rawmemchr",
        ["__strnlen"] = "strnlen",
        ["__memrchr"] = "memrchr",
        ["__strchrnul"] = "strchrnul",
    };

    /// <summary>
    /// The copy routines that report an overlapping source and destination (through
    /// <see cref="OverlapHook"/>, under the name they pass it) and what the report shows of their
    /// arguments: memmove alone may overlap.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, CopyArguments> OverlapArguments = new Dictionary<string, CopyArguments>
    {
        ["memcpy"] = CopyArguments.PointersAndLength,
        ["mempcpy"] = CopyArguments.PointersAndLength,
        ["memccpy"] = CopyArguments.PointersCharacterAndLength,
        ["strcpy"] = CopyArguments.Pointers,
        ["stpcpy"] = CopyArguments.Pointers,
        ["strncpy"] = CopyArguments.PointersAndLength,
        ["stpncpy"] = CopyArguments.PointersAndLength,
        ["strcat"] = CopyArguments.Pointers,
        ["strncat"] = CopyArguments.PointersAndLength,
        ["wmemcpy"] = CopyArguments.PointersAndLength,
        ["wcscpy"] = CopyArguments.Pointers,
        ["wcpcpy"] = CopyArguments.Pointers,
        ["wcscat"] = CopyArguments.Pointers,
    };
}
