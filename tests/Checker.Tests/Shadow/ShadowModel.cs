using Checker.Shadow;
using Xunit;

namespace Checker.Tests.Shadow;

/// <summary>
/// The reference the shadow is compared with: one <see cref="ShadowState"/> per byte of a window,
/// updated by the obvious loops. Bytes outside the window are not modelled.
/// </summary>
internal sealed class ShadowModel(ulong start, int length)
{
    private readonly ShadowState[] _states = new ShadowState[length];

    public ulong Start { get; } = start;

    public int Length => _states.Length;

    public ulong End => Start + (ulong)_states.Length;

    public ShadowState this[ulong address]
    {
        get => _states[Index(address)];
        set => _states[Index(address)] = value;
    }

    public void Set(ulong address, ulong length, ShadowState state) =>
        _states.AsSpan(Index(address), (int)length).Fill(state);

    // Array.Copy behaves like memmove for overlapping ranges of one array.
    public void Copy(ulong from, ulong to, ulong length) =>
        Array.Copy(_states, Index(from), _states, Index(to), (int)length);

    public (ulong Address, ShadowState State)? FirstNot(ulong address, ulong length, ShadowState expected)
    {
        for (ulong a = address; a < address + length; a++)
            if (this[a] != expected) return (a, this[a]);
        return null;
    }

    /// <summary>Writes the model's states into <paramref name="shadow"/>, one run at a time.</summary>
    public void WriteTo(ShadowMemory shadow)
    {
        int i = 0;
        while (i < _states.Length)
        {
            int j = i + 1;
            while (j < _states.Length && _states[j] == _states[i]) j++;
            shadow.Set(Start + (ulong)i, (ulong)(j - i), _states[i]);
            i = j;
        }
    }

    /// <summary>Fails at the first byte of the window where <paramref name="shadow"/> disagrees.</summary>
    public void AssertMatches(ShadowMemory shadow, string context = "")
    {
        for (int i = 0; i < _states.Length; i++)
        {
            ShadowState actual = shadow.Get(Start + (ulong)i);
            if (actual != _states[i])
                Assert.Fail($"{context}: byte 0x{Start + (ulong)i:x} (window +{i}) is {actual}, expected {_states[i]}");
        }
    }

    private int Index(ulong address)
    {
        if (address < Start || address - Start > (ulong)_states.Length)
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x} is outside the model window");
        return (int)(address - Start);
    }
}
