namespace Checker.Engine.Syscalls.Parameters;

/// <summary>ioctl's third argument, as <see cref="IoctlRequests"/> describes the request; labelled "ioctl(TCGETS)".</summary>
internal sealed class IoctlRule(int requestArgument, int argument) : ParameterRule
{
    public override void Before(in SyscallCall call)
    {
        var request = IoctlRequests.Find((uint)call.Arg(requestArgument));
        call.Add(request.Name, call.Arg(argument), request.Size, request.Access, after: false);
    }

    public override void After(in SyscallCall call)
    {
        if (call.Result < 0) return;
        var request = IoctlRequests.Find((uint)call.Arg(requestArgument));
        call.Add(request.Name, call.Arg(argument), request.Size, request.Access, after: true);
    }

    public override string Describe(IReadOnlyList<string> arguments) =>
        $"`{arguments[argument]}` as the request says (table below; others by the _IOC direction and size bits)";
}
