using System.Security.Cryptography;

namespace Enrichment.Portal.Core;

/// <summary>Opaque ids: 16 random bytes as 26 lower-case Crockford base32 characters, sortable enough by prefix time.</summary>
public static class Ids
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--) { bytes[i] = (byte)(ms & 0xff); ms >>= 8; }
        RandomNumberGenerator.Fill(bytes[6..]);
        Span<char> chars = stackalloc char[26];
        ulong hi = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
        ulong lo = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        var value = ((UInt128)hi << 64) | lo;
        for (var i = 25; i >= 0; i--) { chars[i] = Alphabet[(int)(value & 31)]; value >>= 5; }
        return new string(chars);
    }
}
