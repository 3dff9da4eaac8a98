namespace Checker.Engine.State;

/// <summary>Linux x86-64 signal numbers the engine names.</summary>
public static class Signals
{
    public const int SIGTRAP = 5, SIGILL = 4, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9, SIGSEGV = 11;

    /// <summary>Signals whose default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH).</summary>
    public static bool IgnoredByDefault(int signal) => signal is 17 or 18 or 23 or 28;

    /// <summary>Signals whose default action stops the process (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU).</summary>
    public static bool StopsByDefault(int signal) => signal is 19 or 20 or 21 or 22;

    public static string Name(int signal) => signal switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", SIGILL => "SIGILL", SIGTRAP => "SIGTRAP", SIGABRT => "SIGABRT",
        SIGBUS => "SIGBUS", SIGFPE => "SIGFPE", SIGKILL => "SIGKILL", SIGSEGV => "SIGSEGV", 13 => "SIGPIPE",
        14 => "SIGALRM", 15 => "SIGTERM", _ => $"signal {signal}",
    };
}
