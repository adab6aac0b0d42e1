using System.Buffers;
using System.Text;

namespace Enrichment.Portal.Core.Ingestion.Readers;

/// <summary>Outcome of reading one CSV record.</summary>
internal enum CsvRecordStatus { Ok, UnterminatedQuote, TooLarge }

/// <summary>
/// A streaming RFC 4180 reader: quoted fields (quote doubled inside), embedded delimiters and newlines, CRLF or LF,
/// blank lines skipped. A record longer than <see cref="MaxRecordChars"/> is scanned to its end but not kept.
/// A stray quote inside an unquoted field is kept literally.
/// </summary>
internal sealed class CsvRecordReader(TextReader reader, char delimiter, char quote)
{
    private readonly char[] buf = new char[1 << 16];
    private readonly StringBuilder sb = new();
    private readonly SearchValues<char> stops = SearchValues.Create([delimiter, '\r', '\n']);
    private int pos, len;
    private bool eof;
    private long recordChars;
    private bool tooLarge;

    /// <summary>Records longer than this (in chars) are reported as <see cref="CsvRecordStatus.TooLarge"/> without their fields.</summary>
    public long MaxRecordChars { get; set; } = 1 << 20;

    /// <summary>Length in chars (fields and delimiters) of the last record read.</summary>
    public long LastRecordChars => recordChars;

    private bool Fill()
    {
        if (pos < len) return true;
        if (eof) return false;
        len = reader.Read(buf, 0, buf.Length);
        pos = 0;
        if (len == 0) eof = true;
        return len > 0;
    }

    /// <summary>Reads the next record into <paramref name="fields"/>; false at end of input.</summary>
    public bool TryRead(List<string> fields, out CsvRecordStatus status)
    {
        fields.Clear();
        status = CsvRecordStatus.Ok;
        recordChars = 0;
        tooLarge = false;
        // Skip blank lines.
        while (true)
        {
            if (!Fill()) return false;
            var c = buf[pos];
            if (c is '\r' or '\n') { pos++; continue; }
            break;
        }
        while (true)
        {
            var end = ReadField(fields, out var unterminated);
            if (unterminated) { status = CsvRecordStatus.UnterminatedQuote; fields.Clear(); return true; }
            if (end) break;
            recordChars++; // the delimiter
        }
        if (tooLarge) { status = CsvRecordStatus.TooLarge; fields.Clear(); }
        return true;
    }

    private void Append(ReadOnlySpan<char> s)
    {
        recordChars += s.Length;
        if (tooLarge) return;
        if (recordChars > MaxRecordChars) { tooLarge = true; sb.Clear(); return; }
        sb.Append(s);
    }

    private void AddField(List<string> fields)
    {
        if (!tooLarge) fields.Add(sb.Length == 0 ? "" : sb.ToString());
        sb.Clear();
    }

    /// <summary>Reads one field; returns true when it ended the record (newline or end of input).</summary>
    private bool ReadField(List<string> fields, out bool unterminated)
    {
        unterminated = false;
        sb.Clear();
        if (Fill() && buf[pos] == quote)
        {
            pos++;
            while (true)
            {
                if (!Fill()) { unterminated = true; return true; }
                var span = buf.AsSpan(pos, len - pos);
                var q = span.IndexOf(quote);
                if (q < 0) { Append(span); pos = len; continue; }
                Append(span[..q]);
                pos += q + 1;
                if (Fill() && buf[pos] == quote) { Append([quote]); pos++; continue; }
                break;
            }
            // Closing quote: anything up to the next delimiter/newline is kept literally (lenient).
        }
        while (true)
        {
            if (!Fill()) { AddField(fields); return true; }
            var span = buf.AsSpan(pos, len - pos);
            var i = span.IndexOfAny(stops);
            if (i < 0) { Append(span); pos = len; continue; }
            if (sb.Length == 0 && !tooLarge && i > 0 && recordChars + i <= MaxRecordChars)
            {
                recordChars += i;
                if (!tooLarge) fields.Add(new string(span[..i]));
                pos += i;
            }
            else
            {
                Append(span[..i]);
                pos += i;
                AddField(fields);
            }
            var c = buf[pos++];
            if (c == delimiter) return false;
            if (c == '\r' && Fill() && buf[pos] == '\n') pos++;
            return true;
        }
    }

    /// <summary>Writes fields back as one CSV line (quoting where needed), for error reports.</summary>
    public static string Format(IReadOnlyList<string> fields, char delimiter, char quote, int maxChars)
    {
        var s = new StringBuilder();
        for (var i = 0; i < fields.Count && s.Length < maxChars; i++)
        {
            if (i > 0) s.Append(delimiter);
            var f = fields[i];
            if (f.AsSpan().IndexOfAny([delimiter, quote, '\r', '\n']) >= 0)
                s.Append(quote).Append(f.Replace(quote.ToString(), new string(quote, 2))).Append(quote);
            else s.Append(f);
        }
        return s.Length <= maxChars ? s.ToString() : s.ToString(0, maxChars);
    }
}
