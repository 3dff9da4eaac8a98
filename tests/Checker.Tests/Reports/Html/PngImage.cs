using System.Buffers.Binary;
using System.IO.Compression;

namespace Checker.Tests.Reports.Html;

/// <summary>
/// A PNG decoded to RGBA pixels, enough for Chromium's screenshots: 8-bit RGB or RGBA, not
/// interlaced. The IDAT stream is zlib (<see cref="ZLibStream"/>); each scanline starts with its
/// filter type (None, Sub, Up, Average, Paeth), undone against the previous, already unfiltered line.
/// </summary>
internal sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a];

    private PngImage(int width, int height, uint[] pixels) => (Width, Height, Pixels) = (width, height, pixels);

    public int Width { get; }
    public int Height { get; }

    /// <summary>Row by row, each 0xRRGGBBAA.</summary>
    public uint[] Pixels { get; }

    public static PngImage Decode(byte[] file)
    {
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("not a PNG file");
        int width = 0, height = 0, channels = 0;
        var compressed = new MemoryStream();
        for (int at = 8; at + 8 <= file.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            ReadOnlySpan<byte> data = file.AsSpan(at + 8, length);
            at += 12 + length; // length, type, data, CRC
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                (byte depth, byte color, byte interlace) = (data[8], data[9], data[12]);
                channels = color switch { 2 => 3, 6 => 4, _ => 0 };
                if (depth != 8 || channels == 0 || interlace != 0)
                    throw new InvalidDataException($"unsupported PNG: depth {depth}, color type {color}, interlace {interlace}");
            }
            else if (type == "IDAT")
            {
                compressed.Write(data);
            }
            else if (type == "IEND")
            {
                break;
            }
        }
        if (channels == 0) throw new InvalidDataException("PNG without IHDR");

        int stride = width * channels;
        var raw = new MemoryStream();
        compressed.Position = 0;
        using (var zlib = new ZLibStream(compressed, CompressionMode.Decompress)) zlib.CopyTo(raw);
        byte[] bytes = raw.ToArray();
        if (bytes.Length < (long)height * (stride + 1)) throw new InvalidDataException($"PNG data is {bytes.Length} bytes, expected {(long)height * (stride + 1)}");

        var previous = new byte[stride];
        var line = new byte[stride];
        var pixels = new uint[width * height];
        for (int y = 0; y < height; y++)
        {
            int start = y * (stride + 1);
            byte filter = bytes[start];
            for (int x = 0; x < stride; x++)
            {
                int left = x >= channels ? line[x - channels] : 0;
                int up = previous[x];
                int upLeft = x >= channels ? previous[x - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"PNG filter {filter} on line {y}"),
                };
                line[x] = (byte)(bytes[start + 1 + x] + predictor);
            }
            for (int x = 0; x < width; x++)
            {
                int p = x * channels;
                byte alpha = channels == 4 ? line[p + 3] : (byte)255;
                pixels[y * width + x] = (uint)(line[p] << 24 | line[p + 1] << 16 | line[p + 2] << 8 | alpha);
            }
            (previous, line) = (line, previous);
        }
        return new PngImage(width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
