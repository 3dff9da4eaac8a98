using System.Runtime.Versioning;

namespace Checker.Engine.Native;

/// <summary>
/// Faults in memory that is about to be written, on a thread of its own: the kernel zeroes a fresh
/// page when it is first touched (on this PVM guest ~1-2.5 ms a megabyte, the code cache's 2 MB pages
/// included), and a guest program that runs on one thread leaves the machine's other core idle. The
/// translator asks for the next stretch of the code region while it fills the current one, so its
/// first writes there find the pages present. MADV_POPULATE_WRITE changes no content, so racing the
/// writer is safe.
/// <para>
/// No lock, no descriptor, no wait the producer could block in: requests go through a ring of
/// <see cref="Ring"/> slots the thread polls (every millisecond while requests come, every 20 once
/// idle), so a fork taken at any moment leaves the child nothing to hang on. There the thread does
/// not exist: the ring fills, later requests are dropped, and pages fault in when touched, as they
/// do without this. One producer at a time (the translator's lock); the thread starts on the first request.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class BackgroundPopulation
{
    private const int Ring = 8;

    private readonly (ulong Start, ulong Size)[] _ring = new (ulong, ulong)[Ring];
    private long _head, _tail;   // the thread advances _head, the producer _tail
    private int _started;

    /// <summary>The process's one populating thread.</summary>
    public static BackgroundPopulation Shared { get; } = new();

    private BackgroundPopulation() { }

    /// <summary>Asks for [start, start + size) to be faulted in soon (dropped when the ring is full).</summary>
    public void Request(ulong start, ulong size)
    {
        long tail = _tail;
        if (tail - Volatile.Read(ref _head) >= Ring) return;
        _ring[tail % Ring] = (start, size);
        Volatile.Write(ref _tail, tail + 1);
        if (Interlocked.Exchange(ref _started, 1) == 0)
            new Thread(Run, 256 << 10) { IsBackground = true, Name = "memcheck populate" }.Start();
    }

    private void Run()
    {
        // Never the thread a signal for the process lands on: the engine's handlers expect a guest
        // thread or memcheck's signal listener.
        ulong all = ulong.MaxValue;
        LibC.pthread_sigmask(0 /* SIG_BLOCK */, &all, null);
        int idle = 0;
        while (true)
        {
            long head = _head;
            if (head == Volatile.Read(ref _tail))
            {
                // libc's sleep, not Thread.Sleep: the runtime's wait subsystem takes a process-wide
                // lock around every sleep, which a fork at that moment would leave held in the child.
                LibC.usleep(idle++ < 100 ? 1000u : 20000u);
                continue;
            }
            idle = 0;
            (ulong start, ulong size) = _ring[head % Ring];
            HostMemory.Populate(start, size);
            Volatile.Write(ref _head, head + 1);
        }
    }
}
