namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// Reads guest memory without faulting, to follow pointers the kernel will follow (iovec arrays,
/// msghdr, argv, socklen_t pointers). The engine backs it with process_vm_readv.
/// </summary>
public interface IGuestMemoryReader
{
    /// <summary>Fills <paramref name="into"/> from <paramref name="address"/>; false (contents unspecified) if any byte cannot be read.</summary>
    bool TryRead(ulong address, Span<byte> into);
}
