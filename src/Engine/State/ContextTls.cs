namespace Checker.Engine.State;

/// <summary>
/// Where generated code finds the running thread's context block: in memcheck's static TLS, at a
/// fixed displacement from the fs base (the thread pointer), so <c>fs:[Offset + slot]</c> reaches
/// it from every thread with one segment prefix. gs holds the shadow's base instead.
/// <para>
/// Both bases are ones the kernel set and restores: the thread pointer (glibc's, set at thread
/// creation) and gs (arch_prctl). Neither changes while memcheck runs. Switching a base with
/// wrfsbase on every entry and exit, as this engine once did, needs the kernel to support user
/// FSGSBASE (AT_HWCAP2 bit 1): where it does not (some hypervisors enable the instructions
/// without the kernel knowing), the kernel reloads its own idea of the base at every context
/// switch, and generated code then indexed the shadow off the host's TLS.
/// </para>
/// </summary>
public static class ContextTls
{
    /// <summary>
    /// The block's displacement from the thread pointer (negative: static TLS lies below it).
    /// Set once at start-up by the executable that holds the TLS block (<see cref="Configure"/>),
    /// before any code is generated; the default only serves code generated in unit tests.
    /// </summary>
    public static int Offset { get; private set; } = DefaultOffset;

    /// <summary>Whether <see cref="Configure"/> has given the real displacement.</summary>
    public static bool Configured { get; private set; }

    private const int DefaultOffset = -0x8000;

    /// <summary>Takes the block's displacement and size from the executable's TLS (see src/Memcheck/Native/context_tls.c).</summary>
    public static void Configure(long offset, long size)
    {
        if (size < ContextOffsets.Size)
            throw new EngineException($"the context block's TLS holds {size} bytes, the block needs {ContextOffsets.Size}");
        if (offset is > 0 or < int.MinValue / 2 || (offset & 63) != 0)
            throw new EngineException($"the context block's TLS displacement {offset} is unusable");
        Offset = (int)offset;
        Configured = true;
    }
}
