namespace Checker.Memcheck;

/// <summary>
/// --trace-children-skip: shell-like patterns matched against the whole path an exec names, as
/// Valgrind matches them: '*' is any run of characters ('/' included), '?' one character, '\'
/// makes the next character literal; everything else matches itself.
/// </summary>
public static class SkipPatterns
{
    public static bool AnyMatches(IEnumerable<string> patterns, string path) => patterns.Any(p => Matches(p, path));

    public static bool Matches(string pattern, string text) => Match(pattern, 0, text, 0);

    private static bool Match(string pattern, int p, string text, int t)
    {
        while (p < pattern.Length)
        {
            char c = pattern[p];
            if (c == '*')
            {
                // Runs of '*' are one; then try every split (patterns are short).
                while (p < pattern.Length && pattern[p] == '*') p++;
                if (p == pattern.Length) return true;
                for (int from = t; from <= text.Length; from++)
                    if (Match(pattern, p, text, from)) return true;
                return false;
            }
            if (t == text.Length) return false;
            if (c == '?') { p++; t++; continue; }
            if (c == '\\' && p + 1 < pattern.Length) c = pattern[++p];
            if (c != text[t]) return false;
            p++;
            t++;
        }
        return t == text.Length;
    }
}
