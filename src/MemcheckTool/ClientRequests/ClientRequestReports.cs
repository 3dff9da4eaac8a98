using Checker.MemcheckTool.Heap;

namespace Checker.MemcheckTool.ClientRequests;

/// <summary>Where the client requests' output goes: the front end (memcheck's ReportSession) sets these.</summary>
public sealed class ClientRequestReports
{
    /// <summary>A failed VALGRIND_CHECK_MEM_IS_* (Valgrind's ClientCheck).</summary>
    public Action<ClientCheckError>? Errors { get; set; }

    /// <summary>VALGRIND_PRINTF's text (its lines; the last may lack its newline), with the stack at the request for PRINTF_BACKTRACE (its first pc exact).</summary>
    public Action<string, ulong[]?>? Messages { get; set; }

    /// <summary>A leak check the program asked for: the blocks of the records to show, and how.</summary>
    public Action<IReadOnlyList<LeakedBlock>, LeakCheckRequest>? LeakChecks { get; set; }

    /// <summary>Errors reported so far (VALGRIND_COUNT_ERRORS), repeats included; 0 when unset.</summary>
    public Func<int>? ErrorCount { get; set; }
}
