namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// The size of a structure the kernel reads or writes, with the C type that has it on x86-64
/// (a test compiles sizeof(CType) with gcc, so the table cannot drift). <paramref name="KernelHeader"/>:
/// the type is the kernel's own (asm/ headers), not glibc's of the same name.
/// </summary>
public sealed record KernelStruct(string CType, ulong Size, bool KernelHeader = false);
