namespace Checker.Engine.Emission;

/// <summary>rel32 displacement arithmetic, with a clear error when a target is out of reach.</summary>
public static class Rel32
{
    /// <summary>The displacement from the end of a field at <paramref name="fieldEnd"/> to <paramref name="target"/>.</summary>
    public static int Displacement(ulong fieldEnd, ulong target)
    {
        long delta = unchecked((long)(target - fieldEnd));
        if (delta is < int.MinValue or > int.MaxValue)
            throw new EngineException($"branch from 0x{fieldEnd:x} to 0x{target:x} is out of rel32 reach");
        return (int)delta;
    }
}
