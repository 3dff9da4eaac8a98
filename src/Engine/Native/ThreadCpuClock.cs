using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID): what a piece of work cost, whatever else the machine runs.</summary>
[SupportedOSPlatform("linux")]
public static unsafe class ThreadCpuClock
{
    private const int ThreadCpuTimeId = 3;

    public static long Nanoseconds()
    {
        long* time = stackalloc long[2];
        return LibC.clock_gettime(ThreadCpuTimeId, time) == 0 ? time[0] * 1_000_000_000 + time[1] : 0;
    }
}
