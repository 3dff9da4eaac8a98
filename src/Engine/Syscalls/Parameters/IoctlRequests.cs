namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// The ioctl requests described by name: the old terminal requests, whose numbers do not use the
/// _IOC encoding, and a few encoded ones worth naming. Any other request falls back to the _IOC
/// direction and size bits (as Valgrind does); a request with no direction or size 0 touches no memory.
/// Struct sizes are the kernel's (asm/termbits.h): struct termios 36, termios2 44, winsize 8.
/// </summary>
public static class IoctlRequests
{
    private const ulong Int = 4;
    private static readonly ulong Termios = KernelStructs.Termios.Size, Termios2 = KernelStructs.Termios2.Size, WinSize = KernelStructs.WinSize.Size;
    private const ParameterAccess R = ParameterAccess.Reads, W = ParameterAccess.Writes;

    public static readonly IReadOnlyList<IoctlRequest> All =
    [
        new(0x5401, "TCGETS", Termios, W),
        new(0x5402, "TCSETS", Termios, R),
        new(0x5403, "TCSETSW", Termios, R),
        new(0x5404, "TCSETSF", Termios, R),
        new(0x5409, "TCSBRK", 0, R),
        new(0x540A, "TCXONC", 0, R),
        new(0x540B, "TCFLSH", 0, R),
        new(0x540C, "TIOCEXCL", 0, R),
        new(0x540D, "TIOCNXCL", 0, R),
        new(0x540E, "TIOCSCTTY", 0, R),
        new(0x540F, "TIOCGPGRP", Int, W),
        new(0x5410, "TIOCSPGRP", Int, R),
        new(0x5411, "TIOCOUTQ", Int, W),
        new(0x5412, "TIOCSTI", 1, R),
        new(0x5413, "TIOCGWINSZ", WinSize, W),
        new(0x5414, "TIOCSWINSZ", WinSize, R),
        new(0x5415, "TIOCMGET", Int, W),
        new(0x5416, "TIOCMBIS", Int, R),
        new(0x5417, "TIOCMBIC", Int, R),
        new(0x5418, "TIOCMSET", Int, R),
        new(0x541B, "FIONREAD", Int, W),
        new(0x541D, "TIOCCONS", 0, R),
        new(0x5421, "FIONBIO", Int, R),
        new(0x5422, "TIOCNOTTY", 0, R),
        new(0x5423, "TIOCSETD", Int, R),
        new(0x5424, "TIOCGETD", Int, W),
        new(0x5425, "TCSBRKP", 0, R),
        new(0x5427, "TIOCSBRK", 0, R),
        new(0x5428, "TIOCCBRK", 0, R),
        new(0x5429, "TIOCGSID", Int, W),
        new(0x802C542A, "TCGETS2", Termios2, W),
        new(0x402C542B, "TCSETS2", Termios2, R),
        new(0x402C542C, "TCSETSW2", Termios2, R),
        new(0x402C542D, "TCSETSF2", Termios2, R),
        new(0x80045430, "TIOCGPTN", Int, W),
        new(0x40045431, "TIOCSPTLCK", Int, R),
        new(0x5441, "TIOCGPTPEER", 0, R),
        new(0x5450, "FIONCLEX", 0, R),
        new(0x5451, "FIOCLEX", 0, R),
        new(0x5452, "FIOASYNC", Int, R),
        new(0x5459, "TIOCSERGETLSR", Int, W),
        new(0x5460, "FIOQSIZE", 8, W),
    ];

    private static readonly Dictionary<uint, IoctlRequest> ByRequest = All.ToDictionary(r => r.Request);

    /// <summary>
    /// What <paramref name="request"/>'s argument points to: the named row, else the _IOC encoding
    /// (bits 30-31 direction: 1 the kernel reads, 2 it writes; bits 16-29 size), named "generic".
    /// </summary>
    public static IoctlRequest Find(uint request)
    {
        if (ByRequest.TryGetValue(request, out var known)) return known;
        uint direction = request >> 30, size = (request >> 16) & 0x3FFF;
        ParameterAccess access = direction switch
        {
            1 => ParameterAccess.Reads,
            2 => ParameterAccess.Writes,
            _ => ParameterAccess.ReadsThenWrites,
        };
        return new IoctlRequest(request, "generic", direction == 0 ? 0 : size, access);
    }
}
