using System.Text.Json;

namespace Enrichment.Portal.Core.Ingestion.Readers;

/// <summary>One JSON record read from a file: its document (null when it could not be parsed), size and raw text.</summary>
internal readonly record struct JsonRecord(JsonDocument? Document, int Bytes, string? ParseError, ReadOnlyMemory<byte> Raw);

/// <summary>Thrown for input that cannot be read at all; its message is the batch's failure reason.</summary>
internal sealed class IngestFailureException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reads JSON lines: one record per non-blank line, each parsed on its own (a bad line is a rejected record).</summary>
internal sealed class JsonLinesReader(Stream stream, int maxRecordBytes)
{
    private byte[] buf = new byte[1 << 16];
    private int start, end;
    private bool eof;
    private static readonly JsonDocumentOptions DocOptions = new() { MaxDepth = 64 };

    public bool TryRead(out JsonRecord record)
    {
        while (true)
        {
            var nl = buf.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (nl < 0 && !eof)
            {
                if (end - start > maxRecordBytes) { record = SkipLongLine(); return true; }
                Refill();
                continue;
            }
            if (nl < 0 && start == end) { record = default; return false; }
            var lineLen = nl < 0 ? end - start : nl;
            var line = buf.AsMemory(start, lineLen);
            start += nl < 0 ? lineLen : lineLen + 1;
            var trimmed = Trim(line);
            if (trimmed.Length == 0) continue;
            record = Parse(trimmed);
            return true;
        }
    }

    private JsonRecord SkipLongLine()
    {
        long total = end - start;
        start = end;
        while (true)
        {
            Refill();
            var nl = buf.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (nl >= 0) { total += nl; start += nl + 1; break; }
            total += end - start;
            start = end;
            if (eof) break;
        }
        var bytes = (int)Math.Min(total, int.MaxValue);
        return new JsonRecord(null, bytes, null, ReadOnlyMemory<byte>.Empty);
    }

    private void Refill()
    {
        if (start > 0) { Buffer.BlockCopy(buf, start, buf, 0, end - start); end -= start; start = 0; }
        if (end == buf.Length) Array.Resize(ref buf, buf.Length * 2);
        var n = stream.Read(buf, end, buf.Length - end);
        if (n == 0) eof = true;
        end += n;
    }

    private static ReadOnlyMemory<byte> Trim(ReadOnlyMemory<byte> m)
    {
        var s = m.Span;
        int a = 0, b = s.Length;
        if (b >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) a = 3;
        while (a < b && s[a] is (byte)' ' or (byte)'\t' or (byte)'\r') a++;
        while (b > a && s[b - 1] is (byte)' ' or (byte)'\t' or (byte)'\r') b--;
        return m[a..b];
    }

    internal static JsonRecord Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            // Copy: the document must outlive the read buffer.
            var doc = JsonDocument.Parse(json.ToArray(), DocOptions);
            return new JsonRecord(doc, json.Length, null, json);
        }
        catch (JsonException ex)
        {
            return new JsonRecord(null, json.Length, "invalid JSON: " + FirstSentence(ex.Message), json);
        }
    }

    internal static string FirstSentence(string m)
    {
        var i = m.IndexOf(" Path:", StringComparison.Ordinal);
        return i > 0 ? m[..i] : m;
    }
}

/// <summary>
/// Streams the elements of a top-level JSON array (or a sequence of top-level values) without loading the file:
/// each element is located with <see cref="Utf8JsonReader.TrySkip"/> and parsed on its own.
/// Structural errors (invalid JSON, nesting deeper than 64) fail the whole file.
/// </summary>
internal sealed class JsonArrayReader(Stream stream, int maxElementBytes)
{
    private byte[] buf = new byte[1 << 16];
    private int start, end;
    private bool eof, begun, done, topLevelSequence;
    private long consumedBefore;
    private JsonReaderState state = new(new JsonReaderOptions { MaxDepth = 64, AllowMultipleValues = true, CommentHandling = JsonCommentHandling.Skip });

    public bool TryRead(out JsonRecord record)
    {
        record = default;
        if (done) return false;
        while (true)
        {
            var reader = new Utf8JsonReader(buf.AsSpan(start, end - start), eof, state);
            try
            {
                if (!reader.Read())
                {
                    if (eof)
                    {
                        if (begun && !topLevelSequence) throw new IngestFailureException("invalid JSON: the array is not closed (truncated file?)");
                        done = true;
                        return false;
                    }
                    More();
                    continue;
                }
                if (!begun)
                {
                    begun = true;
                    if (reader.TokenType == JsonTokenType.StartArray) { Advance(ref reader); continue; }
                    topLevelSequence = true;
                }
                if (!topLevelSequence && reader.TokenType == JsonTokenType.EndArray) { done = true; return false; }
                var elementStart = (int)reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    if (eof) throw new IngestFailureException($"invalid JSON: element at byte {consumedBefore + elementStart:N0} is not closed (truncated file?)");
                    More();
                    continue;
                }
                var elementEnd = (int)reader.BytesConsumed;
                var raw = buf.AsMemory(start + elementStart, elementEnd - elementStart);
                record = JsonLinesReader.Parse(raw);
                Advance(ref reader);
                return true;
            }
            catch (JsonException ex)
            {
                throw new IngestFailureException($"invalid JSON near byte {consumedBefore + reader.BytesConsumed:N0}: {JsonLinesReader.FirstSentence(ex.Message)}", ex);
            }
        }
    }

    private void Advance(ref Utf8JsonReader reader)
    {
        state = reader.CurrentState;
        start += (int)reader.BytesConsumed;
        consumedBefore += reader.BytesConsumed;
    }

    private void More()
    {
        if (start > 0) { Buffer.BlockCopy(buf, start, buf, 0, end - start); end -= start; start = 0; }
        if (end == buf.Length)
        {
            if (buf.Length >= maxElementBytes) throw new IngestFailureException($"a JSON element is larger than {maxElementBytes / (1024 * 1024)} MB");
            Array.Resize(ref buf, Math.Min(buf.Length * 2, maxElementBytes));
        }
        var n = stream.Read(buf, end, buf.Length - end);
        if (n == 0) eof = true;
        end += n;
    }
}
