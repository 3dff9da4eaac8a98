namespace Checker.MemcheckTool.ClientRequests;

/// <summary>The arguments after a printf format, taken in order as va_arg takes them.</summary>
public interface IVarArgs
{
    /// <summary>The next integer or pointer argument (a general-purpose register's slot).</summary>
    ulong NextInteger();

    /// <summary>The next double argument (a vector register's slot).</summary>
    double NextDouble();
}
