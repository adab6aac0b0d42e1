using System.Text;

namespace Enrichment.Portal.Core.Ingestion.Readers;

/// <summary>
/// The text encodings an upload may be in (option <c>encoding</c>): <c>utf-8</c> (default), <c>latin1</c> (ISO-8859-1),
/// <c>windows-1252</c> and <c>utf-16</c> (little or big endian, told by its byte order mark; a UTF-16 or UTF-8 BOM always wins).
/// <para>
/// UTF-8 is decoded leniently so that one bad record does not stop the file: every byte <c>b</c> that is not valid UTF-8
/// becomes the code point <c>U+10FF00 + b</c> (a marker in the last private-use plane, which real data does not use; .NET
/// does not allow lone surrogates, Python's "surrogate escape"). A record holding one is rejected with its row number
/// (<see cref="Describe"/>), the rest of the batch is kept.
/// </para>
/// </summary>
public static class TextDecoding
{
    public const string Utf8 = "utf-8";
    public const string Latin1 = "latin1";
    public const string Windows1252 = "windows-1252";
    public const string Utf16 = "utf-16";
    public static readonly IReadOnlyList<string> Names = [Utf8, Latin1, Windows1252, Utf16];

    static TextDecoding() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The canonical name of an encoding option (aliases such as <c>iso-8859-1</c>, <c>cp1252</c>, <c>utf16</c>), or null when unknown.</summary>
    public static string? Canonical(string? name) => (name ?? "").Trim().ToLowerInvariant().Replace('_', '-') switch
    {
        "" or "utf-8" or "utf8" => Utf8,
        "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1" => Latin1,
        "windows-1252" or "cp1252" or "win1252" or "cp-1252" => Windows1252,
        "utf-16" or "utf16" or "utf-16le" or "utf-16be" or "unicode" => Utf16,
        _ => null,
    };

    /// <summary>The decoder for an encoding option (UTF-8: lenient with surrogate escapes).</summary>
    public static Encoding For(string? name) => Canonical(name) switch
    {
        Latin1 => Encoding.Latin1,
        Windows1252 => Encoding.GetEncoding(1252),
        Utf16 => new UnicodeEncoding(bigEndian: false, byteOrderMark: true, throwOnInvalidBytes: false),
        _ => EscapingUtf8,
    };

    /// <summary>A reader of the stream in that encoding; byte order marks (UTF-8, UTF-16) are honoured and skipped.</summary>
    public static StreamReader Reader(Stream stream, string? encoding, int bufferSize = 1 << 16) =>
        new(stream, For(encoding), detectEncodingFromByteOrderMarks: true, bufferSize);

    /// <summary>For byte-oriented readers (JSON): the stream as UTF-8, transcoded when the option names another encoding.</summary>
    public static Stream AsUtf8(Stream stream, string? encoding) =>
        Canonical(encoding) is null or Utf8 ? stream : Encoding.CreateTranscodingStream(stream, For(encoding), Encoding.UTF8, leaveOpen: false);

    private static readonly Encoding EscapingUtf8 = Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, new EscapeFallback());

    // U+10FF80..U+10FFFF in UTF-16: the high surrogate U+DBFF, then U+DF80..U+DFFF (the byte is the low 7 bits + 0x80).
    private const char MarkerHigh = '\uDBFF';

    /// <summary>True when chars i, i+1 stand for one undecodable byte.</summary>
    private static bool IsEscape(string s, int i) => i < s.Length && s[i] == MarkerHigh && i + 1 < s.Length && s[i + 1] is >= '\uDF80' and <= '\uDFFF';

    private static int ByteAt(string s, int i) => s[i + 1] - 0xDF00;

    /// <summary>Whether any field holds bytes that were not valid in the file's encoding.</summary>
    public static bool HasInvalidBytes(IReadOnlyList<string> fields)
    {
        foreach (var f in fields)
        {
            var i = f.IndexOf(MarkerHigh);
            if (i < 0) continue;
            for (; i < f.Length; i++) if (IsEscape(f, i)) return true;
        }
        return false;
    }

    /// <summary>
    /// The reason for a record with invalid bytes: the first field and bytes at fault, and whether they look like Latin-1 /
    /// Windows-1252 (single bytes 0x80-0xFF between ASCII, as accented letters are in those encodings).
    /// </summary>
    public static (string Message, bool LooksLikeLatin1) Describe(IReadOnlyList<string> fields, IReadOnlyList<string>? columns)
    {
        var latin1 = true;
        string? first = null;
        for (var c = 0; c < fields.Count; c++)
        {
            var f = fields[c];
            for (var i = 0; i < f.Length; i++)
            {
                if (!IsEscape(f, i)) continue;
                var run = 1;
                while (IsEscape(f, i + 2 * run)) run++;
                if (run > 1) latin1 = false; // a UTF-8 sequence gone wrong, not one Latin-1 letter
                first ??= $"bytes that are not valid UTF-8 ({string.Join(" ", Enumerable.Range(0, Math.Min(run, 4)).Select(k => $"0x{ByteAt(f, i + 2 * k):X2}"))})" +
                          (columns is not null && c < columns.Count ? $" in column '{columns[c]}'" : $" in field {c + 1}") + $": \"{Visible(f)}\"";
                i += 2 * run - 1;
            }
        }
        var hint = latin1 ? "; the file looks like Latin-1 / Windows-1252: upload it with encoding=windows-1252" : "";
        return ((first ?? "bytes that are not valid UTF-8") + hint, latin1);
    }

    /// <summary>The text with undecodable bytes shown as <c>\xNN</c> (for messages and the rejected-rows file).</summary>
    public static string Visible(string s, int maxChars = 200)
    {
        if (s.IndexOf(MarkerHigh) < 0) return s.Length > maxChars ? s[..maxChars] + "…" : s;
        var b = new StringBuilder(s.Length + 8);
        for (var i = 0; i < s.Length && b.Length < maxChars; i++)
            if (IsEscape(s, i)) { b.Append($"\\x{ByteAt(s, i):X2}"); i++; } else b.Append(s[i]);
        return b.ToString();
    }

    private sealed class EscapeFallback : DecoderFallback
    {
        public override int MaxCharCount => 16;
        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer();

        private sealed class Buffer : DecoderFallbackBuffer
        {
            private readonly char[] chars = new char[16];
            private int count, index;
            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                count = 0;
                foreach (var b in bytesUnknown.AsSpan(0, Math.Min(bytesUnknown.Length, 8)))
                {
                    chars[count++] = MarkerHigh;
                    chars[count++] = (char)(0xDF00 + b); // b >= 0x80: every invalid UTF-8 byte is
                }
                this.index = 0;
                return true;
            }
            public override char GetNextChar() => index < count ? chars[index++] : '\0';
            public override bool MovePrevious() { if (index == 0) return false; index--; return true; }
            public override int Remaining => count - index;
            public override void Reset() { count = index = 0; }
        }
    }
}
