namespace Checker.MemcheckTool.ClientRequests;

/// <summary>
/// VALGRIND_DISABLE_ERROR_REPORTING / VALGRIND_ENABLE_ERROR_REPORTING: a level per guest thread (a
/// stack of disables, as Valgrind's err_disablement_level; a new thread starts enabled). Errors are
/// detected on the host thread of the guest thread they happen on, so the level is thread-static,
/// and an error of a thread whose level is not zero is neither reported nor counted.
/// </summary>
public static class ErrorReporting
{
    [ThreadStatic] private static uint _disabled;

    /// <summary>Whether errors of the current guest thread are reported.</summary>
    public static bool Enabled => _disabled == 0;

    /// <summary>+1 disables once more, -1 undoes one disable (never below enabled).</summary>
    public static void Change(long delta)
    {
        if (delta > 0 && _disabled < uint.MaxValue) _disabled++;
        else if (delta < 0 && _disabled > 0) _disabled--;
    }

    /// <summary><paramref name="sink"/> behind the current thread's switch.</summary>
    public static Action<T>? Gate<T>(Action<T>? sink) => sink == null ? null : e => { if (Enabled) sink(e); };
}
