namespace Checker.Memcheck;

/// <summary>memcheck's own exit codes (otherwise it exits with the guest's status). Documented in README.md.</summary>
public static class ExitCodes
{
    public const int Usage = 2;
    public const int EngineFailure = 125;
    public const int CannotExecute = 126;
    public const int NotFound = 127;
}
