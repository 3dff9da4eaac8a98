namespace Checker.Engine.Loading;

/// <summary>
/// A new process's initial stack: <see cref="Image"/> goes at <see cref="ImageBase"/> (so it ends
/// exactly at the stack top) and the guest starts with rsp = <see cref="StackPointer"/>.
/// </summary>
public sealed record InitialStack(byte[] Image, ulong ImageBase, ulong StackPointer);
