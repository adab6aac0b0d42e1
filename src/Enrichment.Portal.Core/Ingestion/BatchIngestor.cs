using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Ingestion.LakeWriters;
using Enrichment.Portal.Core.Ingestion.Readers;
using Enrichment.Portal.Core.Lake;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// Turns an uploaded file into a validated, typed Parquet batch in the lake, with row-level errors.
/// <para>
/// Lake layout of a batch folder: <c>part-NNNNN.parquet</c> (accepted records; one flat column per schema field named by its
/// full dotted path, typed BIGINT/DOUBLE/BOOLEAN/DATE/TIMESTAMP(UTC)/VARCHAR; array, map and object fields as JSON text),
/// <c>_errors/errors-NNNNN.parquet</c> (rejected records: row, field, code, message, raw), <c>_manifest.json</c> (the result) and
/// <c>_SUCCESS</c> or <c>_FAILED</c>. The folder is written under <c>_tmp</c> and renamed into place, so it is visible completely or
/// not at all; a re-run first deletes leftovers of crashed runs and replaces the folder, so rows are stored exactly once.
/// </para>
/// <para>
/// Row numbers are 1-based data record numbers: the CSV header is not counted, blank lines are skipped and not counted, a quoted
/// field with newlines is one record; for JSON the n-th array element or the n-th non-blank line.
/// </para>
/// Bad input never throws: it ends as a result with <see cref="IngestResult.Failed"/> and a reason. Only cancellation throws
/// (<see cref="OperationCanceledException"/>), after removing the partial output.
/// </summary>
public sealed class BatchIngestor
{
    private const int RawMaxChars = 16 * 1024;
    private const int ProgressCheckEvery = 4096;
    private const long ErrorsPerFile = 200_000;

    /// <summary>Runs the ingestion on a thread-pool thread.</summary>
    public Task<IngestResult> IngestAsync(IngestRequest request, IProgress<IngestProgress>? progress = null, CancellationToken ct = default) =>
        Task.Run(() => Ingest(request, progress, ct), ct);

    /// <summary>Runs the ingestion on the calling thread.</summary>
    public IngestResult Ingest(IngestRequest request, IProgress<IngestProgress>? progress = null, CancellationToken ct = default)
    {
        var started = DateTimeOffset.UtcNow;
        LakeFolders.CleanLeftovers(request.LakeFolder);
        var tmp = LakeFolders.CreateTemp(request.LakeFolder);
        var run = new Run(request, progress, ct);
        try
        {
            string? fatal = null;
            InputFormat? format = null;
            using (var lake = new LakePartWriter(tmp, request.Schema, request.Options.DuckDbMemoryLimit))
            {
                run.Lake = lake;
                try
                {
                    run.Validator = new RecordValidator(request.Schema, request.Namespaces, request.Options);
                    var (fmt, gzip) = InputOpener.Detect(request.FilePath, request.FileName);
                    format = fmt;
                    if (fmt != InputFormat.Parquet) InputOpener.RejectBinary(request.FilePath, gzip);
                    switch (fmt)
                    {
                        case InputFormat.Csv: run.Csv(gzip); break;
                        case InputFormat.JsonArray or InputFormat.JsonLines: run.Json(gzip, fmt); break;
                        default: run.Parquet(); break;
                    }
                    if (run.Read == 0) fatal = fmt == InputFormat.Csv ? "the file has a header but no records" : "the file has no records";
                }
                catch (IngestFailureException ex) { fatal = ex.Message; }
                catch (DecoderFallbackException ex) { fatal = $"the file is not valid UTF-8 text ({ex.Message.TrimEnd('.')}) near record {run.Read + 1:N0}"; }
                catch (ArgumentException ex) { fatal = ex.Message; }
                catch (InvalidDataException ex) { fatal = "the file cannot be decompressed: " + ex.Message; }
                catch (DuckDBException ex) { fatal = "the file cannot be read: " + ex.Message; }
                catch (JsonException ex) { fatal = "invalid JSON: " + ex.Message; }
                catch (IOException ex) when (ex is not FileNotFoundException) { fatal = "the file cannot be read: " + ex.Message; }
                catch (OutOfMemoryException) { fatal = "the file cannot be read: a record is too large to hold in memory"; }

                var validateEnd = DateTimeOffset.UtcNow;
                var reason = fatal ?? ErrorThreshold.Check(run.Read, run.Failed, request.Options.ErrorThresholdPercent);
                if (reason is not null && fatal is null && run.EncodingErrors > 0)
                    reason += $"; {run.EncodingErrors:N0} of them hold bytes that are not valid {TextDecoding.Canonical(request.Options.Encoding) ?? TextDecoding.Utf8}" +
                              (run.Latin1Like * 2 >= run.EncodingErrors ? " and the file looks like Latin-1 / Windows-1252: upload it again with encoding=windows-1252" : "");
                ct.ThrowIfCancellationRequested();
                if (reason is null) lake.FlushData(); else lake.DropDataFiles();
                lake.FlushErrors();
                var result = new IngestResult
                {
                    RecordsRead = run.Read,
                    RecordsWritten = reason is null ? run.Written : 0,
                    RecordsFailed = run.Failed,
                    RecordsWithoutIdentity = reason is null ? run.WithoutIdentity : 0,
                    ErrorSummary = run.Summary(),
                    Failed = reason is not null,
                    FailureReason = reason,
                    Format = format,
                    Files = [.. lake.Files],
                    ErrorFiles = [.. lake.ErrorFiles],
                    LargestRecordBytes = run.LargestBytes,
                    LargestRecordRow = run.LargestRow,
                    MostArrayItems = run.MostArrayItems,
                    MostArrayItemsRow = run.MostArrayItemsRow,
                };
                var lakeEnd = DateTimeOffset.UtcNow;
                result = result with { Stages = [new StageTiming("validate", started, validateEnd), new StageTiming("lake", validateEnd, lakeEnd)] };
                // Leave the DuckDB scope before publishing (its temp folder lives inside the batch folder).
                run.Result = result;
            }
            var final = run.Result!;
            File.WriteAllText(Path.Combine(tmp, "_manifest.json"), JsonSerializer.Serialize(final, ManifestJson));
            File.WriteAllText(Path.Combine(tmp, final.Failed ? LakeFolders.FailedMarker : LakeFolders.SuccessMarker), final.FailureReason ?? "");
            LakeFolders.Publish(tmp, request.LakeFolder);
            return final with { Stages = [final.Stages[0], final.Stages[1] with { FinishedAt = DateTimeOffset.UtcNow }] };
        }
        finally
        {
            LakeFolders.TryDelete(tmp);
        }
    }

    private static readonly JsonSerializerOptions ManifestJson = new() { WriteIndented = true };

    /// <summary>The state of one run: counters, error summary, the lake writer.</summary>
    private sealed class Run(IngestRequest req, IProgress<IngestProgress>? progress, CancellationToken ct)
    {
        public RecordValidator Validator = null!;
        public LakePartWriter Lake = null!;
        public IngestResult? Result;
        public long Read, Written, Failed, WithoutIdentity;
        /// <summary>Records rejected for bytes not valid in the file's encoding, and how many of them look like Latin-1 text.</summary>
        public long EncodingErrors, Latin1Like;
        /// <summary>Guardrail figures of the accepted records: the largest (bytes) and the one with the longest array, with their rows.</summary>
        public long LargestBytes, LargestRow, MostArrayItemsRow;
        public int MostArrayItems;
        private readonly Dictionary<(string Code, string? Field), (long Count, string Example)> summary = new();
        private readonly Stopwatch sinceProgress = Stopwatch.StartNew();
        private long lastProgressRows, bytesSinceFlush;
        private FileStream? file;
        private readonly List<RecordError> errors = [];
        private object?[] typed = [];
        private object?[] cells = [];
        private IngestOptions O => req.Options;

        public IReadOnlyList<ErrorSummaryItem> Summary() =>
            [.. summary.OrderByDescending(kv => kv.Value.Count).Select(kv => new ErrorSummaryItem(kv.Key.Code, kv.Key.Field, kv.Value.Count, kv.Value.Example))];

        private FileStream OpenFile() => file = new FileStream(req.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

        private void Init()
        {
            typed = new object?[Validator.Plans.Count];
            cells = new object?[Validator.Plans.Count];
        }

        /// <summary>Validates the current cells and routes the record to the data or errors table.</summary>
        private void Process(int recordBytes, Func<string?> raw)
        {
            errors.Clear();
            if (Validator.Validate(cells, recordBytes, typed, errors, out var noId))
            {
                Lake.Append(typed);
                Written++;
                if (noId) WithoutIdentity++;
                if (recordBytes > LargestBytes) { LargestBytes = recordBytes; LargestRow = Read; }
                if (Validator.HasArrays && Validator.ArrayItems(typed) is var items && items > MostArrayItems) { MostArrayItems = items; MostArrayItemsRow = Read; }
            }
            else Reject(raw());
            bytesSinceFlush += recordBytes;
            if (bytesSinceFlush > O.PartFileBytes) { Lake.FlushData(); bytesSinceFlush = 0; }
        }

        private void Reject(string? raw)
        {
            Failed++;
            if (raw is { Length: > RawMaxChars }) raw = raw[..RawMaxChars];
            foreach (var e in errors)
            {
                Lake.AppendError(Read, e, raw);
                var key = (e.Code, e.Field);
                summary[key] = summary.TryGetValue(key, out var s) ? (s.Count + 1, s.Example) : (1, $"row {Read}: {e.Message}");
            }
            if (Lake.PendingErrorRows >= ErrorsPerFile) Lake.FlushErrors();
        }

        private void RejectOne(string code, string message, string? raw)
        {
            errors.Clear();
            errors.Add(new RecordError(code, null, message));
            Reject(raw);
        }

        private void Tick()
        {
            if (Read % ProgressCheckEvery != 0) return;
            ct.ThrowIfCancellationRequested();
            if (progress is null) return;
            if (Read - lastProgressRows >= 100_000 || sinceProgress.ElapsedMilliseconds >= 1000)
            {
                progress.Report(new IngestProgress(Read, Failed, file?.Position ?? 0, file?.Length ?? 0));
                lastProgressRows = Read;
                sinceProgress.Restart();
            }
        }

        private object? Constant(string path) => O.Constants is { } c && c.TryGetValue(path, out var v) ? v : null;

        /// <summary>Field index -> source key (or null), from the explicit or suggested mapping.</summary>
        private string?[] ResolveMapping(IReadOnlyList<string>? columns)
        {
            var fields = Validator.Plans;
            var map = O.Mapping ?? (columns is null
                ? fields.ToDictionary(p => p.Field.Path, p => p.Field.Path)
                : MappingSuggester.Suggest(columns, Validator.Schema));
            var source = new string?[fields.Count];
            foreach (var (src, target) in map)
            {
                var i = fields.ToList().FindIndex(p => string.Equals(p.Field.Path, target, StringComparison.OrdinalIgnoreCase));
                if (i < 0) throw new IngestFailureException($"the mapping targets '{target}', which is not a field of schema '{Validator.Schema.Name}'");
                if (source[i] is not null) throw new IngestFailureException($"the mapping maps both '{source[i]}' and '{src}' to '{target}'");
                if (columns is not null && !columns.Contains(src, StringComparer.OrdinalIgnoreCase))
                    throw new IngestFailureException($"the mapping names the column '{src}', which the file does not have");
                source[i] = src;
            }
            for (var i = 0; i < fields.Count; i++)
                if (fields[i].Required && source[i] is null && Constant(fields[i].Field.Path) is null && columns is not null)
                    throw new IngestFailureException($"the required field '{fields[i].Field.Path}' is not mapped from any column (columns: {string.Join(", ", columns.Take(20))})");
            return source;
        }

        public void Csv(bool gzip)
        {
            using var stream = InputOpener.Open(req.FilePath, gzip, OpenFile());
            using var text = TextDecoding.Reader(stream, O.Encoding);
            var parser = new CsvRecordReader(text, O.Delimiter, O.Quote) { MaxRecordChars = 4 << 20 };
            var header = new List<string>();
            if (!parser.TryRead(header, out var hs)) throw new IngestFailureException("the file is empty");
            if (hs != CsvRecordStatus.Ok) throw new IngestFailureException("the header row is malformed (" + (hs == CsvRecordStatus.TooLarge ? "longer than 4 MB" : "unterminated quote") + ")");
            if (header.Count > O.MaxColumns) throw new IngestFailureException($"the header has {header.Count:N0} columns, more than the limit of {O.MaxColumns:N0}");
            if (TextDecoding.HasInvalidBytes(header)) throw new IngestFailureException("the header row has " + TextDecoding.Describe(header, null).Message);
            var cols = header.Select(h => h.Trim()).ToList();
            CsvHeader.RejectDuplicates(cols);
            Init();
            var source = ResolveMapping(cols);
            var colIndex = source.Select(s => s is null ? -1 : cols.FindIndex(c => string.Equals(c, s, StringComparison.OrdinalIgnoreCase))).ToArray();
            var constants = Validator.Plans.Select(p => Constant(p.Field.Path)).ToArray();
            var maxBytes = O.MaxRecordBytes(Validator.Schema.Class);
            parser.MaxRecordChars = maxBytes;
            // The parse (decompress, decode, split) runs on its own thread, one chunk of records ahead of validation.
            string[] fields = [];
            string Raw() => TextDecoding.Visible(CsvRecordReader.Format(fields, O.Delimiter, O.Quote, RawMaxChars), RawMaxChars);
            foreach (var (row, status, chars) in Pipelined(parser))
            {
                fields = row;
                Read++;
                switch (status)
                {
                    case CsvRecordStatus.TooLarge:
                        RejectOne(ErrorCodes.RecordTooLarge, RecordValidator.TooLargeMessage(Validator.Schema.Class, chars, maxBytes, atLeast: true), null);
                        break;
                    case CsvRecordStatus.UnterminatedQuote:
                        RejectOne(ErrorCodes.ParseError, "unterminated quoted field: the record runs to the end of the file", null);
                        break;
                    default:
                        if (fields.Length != cols.Count)
                        {
                            RejectOne(ErrorCodes.ParseError, $"expected {cols.Count} fields, found {fields.Length}", Raw());
                            break;
                        }
                        if (TextDecoding.HasInvalidBytes(fields))
                        {
                            var (message, latin1) = TextDecoding.Describe(fields, cols);
                            EncodingErrors++;
                            if (latin1) Latin1Like++;
                            RejectOne(ErrorCodes.InvalidEncoding, message, Raw());
                            break;
                        }
                        for (var i = 0; i < colIndex.Length; i++) cells[i] = colIndex[i] >= 0 ? fields[colIndex[i]] : constants[i];
                        var bytes = chars * 3 > maxBytes ? Utf8Bytes(fields) : (int)chars;
                        Process(bytes, Raw);
                        break;
                }
                Tick();
            }
        }

        private IEnumerable<(string[] Row, CsvRecordStatus Status, long Chars)> Pipelined(CsvRecordReader parser)
        {
            const int chunkSize = 1024;
            using var queue = new BlockingCollection<(string[], CsvRecordStatus, long)[]>(boundedCapacity: 4);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Exception? failure = null;
            var producer = Task.Run(() =>
            {
                try
                {
                    var f = new List<string>();
                    var chunk = new List<(string[], CsvRecordStatus, long)>(chunkSize);
                    while (parser.TryRead(f, out var st))
                    {
                        chunk.Add((f.ToArray(), st, parser.LastRecordChars));
                        if (chunk.Count == chunkSize) { queue.Add([.. chunk], stop.Token); chunk.Clear(); }
                    }
                    if (chunk.Count > 0) queue.Add([.. chunk], stop.Token);
                }
                catch (OperationCanceledException) { }
                catch (Exception ex) { failure = ex; }
                finally { queue.CompleteAdding(); }
            }, CancellationToken.None);
            try
            {
                foreach (var chunk in queue.GetConsumingEnumerable(stop.Token))
                    foreach (var r in chunk) yield return r;
            }
            finally
            {
                stop.Cancel();
                try { producer.Wait(CancellationToken.None); } catch (AggregateException) { }
            }
            if (failure is not null) ExceptionDispatchInfo.Throw(failure);
        }

        private static int Utf8Bytes(string[] fields)
        {
            long n = fields.Length - 1;
            foreach (var f in fields) n += Encoding.UTF8.GetByteCount(f);
            return (int)Math.Min(n, int.MaxValue);
        }

        public void Json(bool gzip, InputFormat fmt)
        {
            using var stream = TextDecoding.AsUtf8(InputOpener.Open(req.FilePath, gzip, OpenFile()), O.Encoding);
            Init();
            var source = ResolveMapping(null);
            var constants = Validator.Plans.Select(p => Constant(p.Field.Path)).ToArray();
            var maxBytes = O.MaxRecordBytes(Validator.Schema.Class);
            var lines = fmt == InputFormat.JsonLines ? new JsonLinesReader(stream, Math.Max(maxBytes, 1 << 20)) : null;
            var array = fmt == InputFormat.JsonArray ? new JsonArrayReader(stream, 64 << 20) : null;
            while (true)
            {
                JsonRecord rec;
                if (!(lines?.TryRead(out rec) ?? array!.TryRead(out rec))) break;
                Read++;
                var raw = rec.Raw;
                string? Raw() => raw.IsEmpty ? null : Encoding.UTF8.GetString(raw.Span[..Math.Min(raw.Length, RawMaxChars)]);
                using (rec.Document)
                {
                    if (rec.Bytes > maxBytes)
                        RejectOne(ErrorCodes.RecordTooLarge, RecordValidator.TooLargeMessage(Validator.Schema.Class, rec.Bytes, maxBytes), null);
                    else if (rec.Document is null)
                        RejectOne(ErrorCodes.ParseError, rec.ParseError ?? "invalid JSON", Raw());
                    else if (rec.Document.RootElement.ValueKind != JsonValueKind.Object)
                        RejectOne(ErrorCodes.ParseError, $"record is a JSON {rec.Document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object", Raw());
                    else
                    {
                        var flat = JsonFlattener.Flatten(rec.Document.RootElement);
                        for (var i = 0; i < cells.Length; i++)
                            cells[i] = source[i] is { } s && flat.TryGetValue(s, out var v) ? v : constants[i];
                        Process(rec.Bytes, Raw);
                    }
                }
                Tick();
            }
        }

        public void Parquet()
        {
            using var c = new DuckDBConnection("Data Source=:memory:");
            c.Open();
            using var fs = OpenFile();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT * FROM read_parquet('{req.FilePath.Replace("'", "''")}')";
            using var r = cmd.ExecuteReader();
            var cols = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToList();
            if (cols.Count > O.MaxColumns) throw new IngestFailureException($"the file has {cols.Count:N0} columns, more than the limit of {O.MaxColumns:N0}");
            Init();
            var source = ResolveMapping(cols);
            var colIndex = source.Select(s => s is null ? -1 : cols.FindIndex(x => string.Equals(x, s, StringComparison.OrdinalIgnoreCase))).ToArray();
            var constants = Validator.Plans.Select(p => Constant(p.Field.Path)).ToArray();
            var values = new object?[cols.Count];
            string Raw() => JsonSerializer.Serialize(cols.Select((n, i) => (n, v: values[i])).ToDictionary(x => x.n, x => Textual(x.v)));
            while (r.Read())
            {
                Read++;
                var bytes = 0;
                for (var i = 0; i < cols.Count; i++)
                {
                    var v = r.IsDBNull(i) ? null : r.GetValue(i);
                    if (v is not null && v is not (string or long or int or short or byte or sbyte or ulong or uint or ushort or double or float or decimal or bool or DateTime or DateOnly or DateTimeOffset))
                        v = JsonSerializer.SerializeToElement(v);
                    values[i] = v;
                    bytes += v switch { null => 0, string s => Encoding.UTF8.GetByteCount(s), JsonElement je => je.GetRawText().Length, _ => 8 };
                }
                for (var i = 0; i < colIndex.Length; i++) cells[i] = colIndex[i] >= 0 ? values[colIndex[i]] : constants[i];
                Process(bytes, Raw);
                Tick();
            }
        }

        private static object? Textual(object? v) => v switch { JsonElement je => je.GetRawText(), null => null, _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) };
    }
}
