namespace Checker.Engine.Syscalls.Parameters;

/// <summary>One ioctl request the table knows: what its third argument points to (Size 0: a scalar or nothing).</summary>
public sealed record IoctlRequest(uint Request, string Name, ulong Size, ParameterAccess Access);
