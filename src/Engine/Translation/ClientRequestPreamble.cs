namespace Checker.Engine.Translation;

/// <summary>What one of Valgrind's special instruction sequences asks for (valgrind.h, amd64).</summary>
public enum SpecialSequence
{
    None,
    /// <summary><c>xchg rbx, rbx</c>: a client request (rax: the request block, rdx: the default and the answer).</summary>
    ClientRequest,
    /// <summary><c>xchg rcx, rcx</c>: rax = the address of the function a wrapper wraps (function wrapping: 0 here).</summary>
    GetNoRedirectAddress,
    /// <summary><c>xchg rdx, rdx</c>: call *rax without redirection (inside function wrappers only).</summary>
    CallNoRedirect,
    /// <summary><c>xchg rdi, rdi</c>: VEX IR injection (Valgrind's own tests).</summary>
    InjectIr,
}

/// <summary>
/// Recognizes Valgrind's magic preamble, <c>rol rdi,3; rol rdi,13; rol rdi,61; rol rdi,51</c> (a
/// no-op: the rotations add up to 128 bits) and the <c>xchg</c> after it that says what is asked.
/// Natively the whole sequence does nothing (rdx keeps the default value the program put there).
/// The translator calls <see cref="Match"/> only when it decodes a <c>rol rdi, 3</c>, so ordinary
/// code pays nothing; the sequence is contiguous code and is matched byte for byte.
/// </summary>
public static class ClientRequestPreamble
{
    private static readonly byte[] Preamble =
    [
        0x48, 0xc1, 0xc7, 0x03, 0x48, 0xc1, 0xc7, 0x0d, 0x48, 0xc1, 0xc7, 0x3d, 0x48, 0xc1, 0xc7, 0x33,
    ];

    /// <summary>Bytes of the whole sequence: the preamble and its 3-byte xchg.</summary>
    public const int Length = 19;

    /// <summary>The sequence at <paramref name="pc"/> (guest code readable up to <paramref name="limit"/>), or None.</summary>
    public static SpecialSequence Match(ulong pc, ulong limit)
    {
        if (limit < pc || limit - pc < Length) return SpecialSequence.None;
        ReadOnlySpan<byte> bytes = GuestCodeReader.Span(pc, Length);
        if (!bytes[..Preamble.Length].SequenceEqual(Preamble) || bytes[16] != 0x48 || bytes[17] != 0x87) return SpecialSequence.None;
        return bytes[18] switch
        {
            0xdb => SpecialSequence.ClientRequest,
            0xc9 => SpecialSequence.GetNoRedirectAddress,
            0xd2 => SpecialSequence.CallNoRedirect,
            0xff => SpecialSequence.InjectIr,
            _ => SpecialSequence.None,
        };
    }

    /// <summary>
    /// The sequences the translator replaces by an exit. Call-no-redirect and IR injection run as the
    /// plain instructions they are (rdi rotated back to itself, an xchg of a register with itself):
    /// they appear only in function wrappers and Valgrind's own tests, neither of which runs here.
    /// </summary>
    public static bool IsTranslated(SpecialSequence sequence) =>
        sequence is SpecialSequence.ClientRequest or SpecialSequence.GetNoRedirectAddress;
}
