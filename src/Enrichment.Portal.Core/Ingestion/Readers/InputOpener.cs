using System.IO.Compression;

namespace Enrichment.Portal.Core.Ingestion.Readers;

/// <summary>Detects the format of an upload and opens it (decompressing gzip).</summary>
internal static class InputOpener
{
    public static (InputFormat Format, bool Gzip) Detect(string path, string fileName)
    {
        var head = new byte[4];
        int n;
        using (var fs = File.OpenRead(path)) n = fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        if (n == 0) throw new IngestFailureException("the file is empty");
        var gzip = n >= 2 && head[0] == 0x1f && head[1] == 0x8b;
        if (n == 4 && head is [(byte)'P', (byte)'A', (byte)'R', (byte)'1']) return (InputFormat.Parquet, false);
        var name = fileName.ToLowerInvariant();
        if (name.EndsWith(".gz", StringComparison.Ordinal)) name = name[..^3];
        var ext = Path.GetExtension(name);
        switch (ext)
        {
            case ".parquet":
                if (gzip) throw new IngestFailureException("gzip-compressed Parquet is not supported");
                throw new IngestFailureException("the file is named .parquet but is not a Parquet file (no PAR1 magic)");
            case ".jsonl" or ".ndjson":
                return (InputFormat.JsonLines, gzip);
            case ".json":
                return (InputFormat.JsonArray, gzip);
            case ".csv" or ".tsv" or ".txt":
                return (InputFormat.Csv, gzip);
        }
        // Unknown name: sniff the first non-blank character.
        using var s = Open(path, gzip);
        var b = new byte[256];
        var m = s.ReadAtLeast(b, b.Length, throwOnEndOfStream: false);
        foreach (var c in b.AsSpan(0, m))
        {
            if (c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF) continue;
            return (c == '[' ? InputFormat.JsonArray : c == '{' ? InputFormat.JsonLines : InputFormat.Csv, gzip);
        }
        return (InputFormat.Csv, gzip);
    }

    /// <summary>Opens the file, through a gzip decompressor when compressed. Truncated gzip raises <see cref="IngestFailureException"/>.</summary>
    public static Stream Open(string path, bool gzip, FileStream? underlying = null)
    {
        var fs = underlying ?? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return gzip ? new CheckedGzipStream(fs) : fs;
    }

    /// <summary>Checks the first 8 KB of decompressed text for NUL bytes (binary files).</summary>
    public static void RejectBinary(string path, bool gzip)
    {
        using var s = Open(path, gzip);
        var b = new byte[8192];
        int m;
        try { m = s.ReadAtLeast(b, b.Length, throwOnEndOfStream: false); }
        catch (InvalidDataException ex) { throw new IngestFailureException("the gzip data is corrupt: " + ex.Message, ex); }
        if (m >= 2 && (b[0], b[1]) is (0xFF, 0xFE) or (0xFE, 0xFF)) return; // UTF-16 (its BOM): NULs are part of the text
        var nul = b.AsSpan(0, m).IndexOf((byte)0);
        if (nul >= 0) throw new IngestFailureException($"the file is binary, not text (a NUL byte at byte {nul:N0} of the content)");
        if (m == 0) throw new IngestFailureException(gzip ? "the file is empty (after decompression)" : "the file is empty");
    }

    /// <summary>
    /// A gzip reader that turns corrupt data and a premature end into a clear failure. .NET's GZipStream ends silently on a
    /// truncated file, so at the end the decompressed length is checked against the gzip trailer (ISIZE, length mod 2^32).
    /// (A multi-member gzip file, as made by <c>cat a.gz b.gz</c>, fails this check; single-member files, as gzip and pigz write, pass.)
    /// </summary>
    private sealed class CheckedGzipStream(FileStream inner) : Stream
    {
        private readonly GZipStream gz = new(inner, CompressionMode.Decompress);
        private long total;
        private bool checkedEnd;
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n;
            try { n = gz.Read(buffer); }
            catch (InvalidDataException ex) { throw new IngestFailureException("the gzip data is corrupt: " + ex.Message, ex); }
            total += n;
            if (n == 0 && buffer.Length > 0 && !checkedEnd) CheckEnd();
            return n;
        }

        private void CheckEnd()
        {
            checkedEnd = true;
            var trailer = new byte[4];
            using var fs = new FileStream(inner.Name, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (fs.Length < 18) throw new IngestFailureException("the gzip file is truncated (shorter than a gzip header and trailer)");
            fs.Seek(-4, SeekOrigin.End);
            fs.ReadExactly(trailer);
            var isize = BitConverter.ToUInt32(trailer);
            if (isize != (uint)(total & 0xFFFFFFFF))
                throw new IngestFailureException($"the gzip file is truncated or corrupt: it decompressed to {total:N0} bytes but its trailer says {isize:N0} (mod 2^32)");
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) gz.Dispose(); base.Dispose(disposing); }
    }
}
