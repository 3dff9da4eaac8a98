namespace Checker.Engine.Syscalls.Parameters;

/// <summary>One field of a structure the kernel reads: name, offset, size.</summary>
internal readonly record struct StructField(string Name, ulong Offset, ulong Size);

/// <summary>
/// A structure of which the kernel uses only some fields: those are read one by one, so padding
/// and unused union members a program leaves unset are not reported (stack_t's padding after
/// ss_flags, the tail of struct sigevent, struct flock's l_pid for F_SETLK). When
/// <paramref name="writtenBack"/> is given the kernel writes the whole structure back (F_GETLK).
/// </summary>
internal sealed class FieldsRule(int argument, StructField[] fields, bool optional, KernelStruct? writtenBack = null) : ParameterRule
{
    public override void Before(in SyscallCall call)
    {
        ulong address = call.Arg(argument);
        if (address == 0 && optional) return;
        string name = call.Syscall.Arguments[argument];
        foreach (var field in fields)
            call.Add($"{name}.{field.Name}", address + field.Offset, field.Size, KernelAccess.Reads);
    }

    public override void After(in SyscallCall call)
    {
        ulong address = call.Arg(argument);
        if (call.Result < 0 || address == 0 || writtenBack is null) return;
        call.Add(call.Syscall.Arguments[argument], address, writtenBack.Size, KernelAccess.Writes);
    }

    public override string Describe(IReadOnlyList<string> arguments)
    {
        string text = $"reads `{arguments[argument]}` fields {string.Join(", ", fields.Select(f => f.Name))}";
        if (writtenBack is not null) text += $", writes it back ({writtenBack.CType}, {writtenBack.Size} bytes)";
        return optional ? text + ", may be NULL" : text;
    }
}
