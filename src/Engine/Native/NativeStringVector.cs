using System.Runtime.InteropServices;
using System.Text;

namespace Checker.Engine.Native;

/// <summary>
/// A NULL-terminated array of NUL-terminated UTF-8 strings in unmanaged memory, as execve takes
/// argv, plus an empty string (execveat's path with AT_EMPTY_PATH). Freed on dispose.
/// </summary>
public sealed unsafe class NativeStringVector : IDisposable
{
    private nint _block;

    public NativeStringVector(IReadOnlyList<string> strings)
    {
        byte[][] encoded = strings.Select(s => Encoding.UTF8.GetBytes(s)).ToArray();
        long pointers = (encoded.Length + 1) * 8L;
        long size = pointers + encoded.Sum(e => e.Length + 1L) + 1;
        _block = Marshal.AllocHGlobal((nint)size);
        byte* block = (byte*)_block;
        byte* text = block + pointers;
        for (int i = 0; i < encoded.Length; i++)
        {
            ((byte**)block)[i] = text;
            encoded[i].CopyTo(new Span<byte>(text, encoded[i].Length));
            text[encoded[i].Length] = 0;
            text += encoded[i].Length + 1;
        }
        ((byte**)block)[encoded.Length] = null;
        *text = 0;
        Empty = (ulong)text;
    }

    /// <summary>The array's address (argv).</summary>
    public ulong Address => (ulong)_block;

    /// <summary>The address of an empty string.</summary>
    public ulong Empty { get; }

    public void Dispose()
    {
        if (_block != 0) Marshal.FreeHGlobal(_block);
        _block = 0;
    }
}
