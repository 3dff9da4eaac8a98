namespace Checker.Reports.Suppressions;

/// <summary>
/// Valgrind's wildcard matching, for names in suppressions and for a suppression's frames against
/// a stack: a star element matches any run of input elements (none included), a query element
/// exactly one, any other element one equal input element. Names use <c>*</c> and <c>?</c> and
/// nothing else is special (no escapes, as Valgrind's <c>VG_(string_match)</c>); frames use
/// <c>...</c> as their star and have no query.
/// </summary>
public static class Wildcard
{
    /// <summary>True when <paramref name="text"/> is all of <paramref name="pattern"/>'s (<c>*</c>, <c>?</c>).</summary>
    public static bool Matches(string pattern, string text) =>
        Matches(pattern.Length, text.Length, p => pattern[p] == '*', p => pattern[p] == '?', (p, i) => pattern[p] == text[i], prefix: false);

    /// <summary>True when <paramref name="pattern"/> has no wildcard (compared as a plain string).</summary>
    public static bool IsLiteral(string pattern) => pattern.AsSpan().IndexOfAny('*', '?') < 0;

    /// <summary>
    /// Matches <paramref name="patternLength"/> pattern elements against <paramref name="inputLength"/>
    /// input elements. <paramref name="prefix"/>: the pattern need only match the input's start (a
    /// suppression's frames against a longer stack). The classic single-star backtracking: only the
    /// last star met can need to take more input, so the work is linear in practice.
    /// </summary>
    public static bool Matches(int patternLength, int inputLength, Func<int, bool> isStar, Func<int, bool> isQuery,
        Func<int, int, bool> equal, bool prefix)
    {
        int p = 0, i = 0, starPattern = -1, starInput = 0;
        while (true)
        {
            if (p == patternLength)
            {
                if (prefix || i == inputLength) return true;
            }
            else if (isStar(p))
            {
                starPattern = p++;
                starInput = i;
                continue;
            }
            else if (i < inputLength && (isQuery(p) || equal(p, i)))
            {
                p++;
                i++;
                continue;
            }
            // A mismatch: the last star takes one more input element, or there is no way.
            if (starPattern < 0 || starInput >= inputLength) return false;
            p = starPattern + 1;
            i = ++starInput;
        }
    }
}
