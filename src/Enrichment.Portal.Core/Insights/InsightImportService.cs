using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion.Readers;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Insights;

/// <summary>
/// Bring your own scores: a CSV computed elsewhere (a notebook, another platform) becomes <c>insights.&lt;name&gt;</c> on profiles
/// with no code. The import owns one profile-enabled dataset per name ("Imported scores: &lt;name&gt;") whose schema has the identity
/// column as primary identity and the <c>insights</c> map; each row is rewritten as (identity, insights JSON) and ingested through
/// <see cref="IngestionService"/>, so it gets the same validation, stages, error threshold and profile stage as any batch. A row that
/// breaks a rule of the insight fields (a score that is not a number, say) is written so that the ingestion rejects it with its row
/// number and the reason (see <see cref="Reason"/>). A new import of the same name replaces the previous values on each profile.
/// </summary>
public sealed class InsightImportService(
    CatalogDb db, IngestionService ingestion, SchemaService schemas, DatasetService datasets, IdentityNamespaceService namespaces, TimeProvider clock)
{
    public const string DatasetPrefix = "Imported scores: ";
    public const string InsightsField = "insights";
    public const string DefaultModelVersion = "external";
    private const string NotAMap = "not a JSON map: '";

    public static string DatasetName(string name) => DatasetPrefix + name.Trim();

    /// <summary>The first rows of a staged file with a suggested mapping. Never throws for bad input.</summary>
    public static async Task<InsightImportPreview> PreviewAsync(string path, string fileName, char delimiter = ',', int maxRows = 20, CancellationToken ct = default)
    {
        var p = await IngestPreview.PreviewAsync(path, fileName, delimiter, maxRows, null, ct);
        if (p.Error is null && p.Format != InputFormat.Csv)
            return new InsightImportPreview([], [], Suggest([], [], fileName), "Bring scores as a CSV file (.csv or .csv.gz) with a header row.");
        return new InsightImportPreview(p.Columns, p.Rows, Suggest(p.Columns, p.Rows, fileName), p.Error);
    }

    /// <summary>
    /// Suggests the identity column (an id or email column), its namespace, and a field per other column: numbers between 0 and 1
    /// are scores, columns named like value/clv/ltv are values, segment/cluster are segments, engagement are engagement, top/affinity
    /// are top items, a date column is scoredAt.
    /// </summary>
    public static InsightImportSuggestion Suggest(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string?>> rows, string? fileName = null)
    {
        string?[] Cells(int i) => rows.Select(r => i < r.Count ? r[i]?.Trim() : null).Where(c => !string.IsNullOrEmpty(c)).ToArray();
        static bool Has(string column, params string[] words) => words.Any(w => column.Contains(w, StringComparison.OrdinalIgnoreCase));

        string? identity = null, ns = null, scoredAt = null;
        for (var i = 0; i < columns.Count && identity is null; i++)
        {
            var c = columns[i];
            var cells = Cells(i);
            if (cells.Length > 0 && cells.All(v => v!.Contains('@'))) { identity = c; ns = "Email"; }
            else if (Has(c, "email", "e-mail")) { identity = c; ns = "Email"; }
            else if (Has(c, "customer", "crm", "user") || c.Equals("id", StringComparison.OrdinalIgnoreCase) || c.EndsWith("id", StringComparison.OrdinalIgnoreCase) || c.EndsWith("_id", StringComparison.OrdinalIgnoreCase))
            {
                identity = c;
                ns = Has(c, "ecid") ? "ECID" : Has(c, "cookie") ? "CookieID" : Has(c, "device") ? "DeviceID" : Has(c, "phone") ? "Phone" : "CRMID";
            }
        }
        identity ??= columns.FirstOrDefault();
        ns ??= identity is null ? null : "CRMID";

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            if (c == identity) continue;
            var cells = Cells(i);
            // Numeric when at least 80 % of the first values are numbers (a few bad rows are rejected at import, with their row number).
            var numbers = cells.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : (double?)null).Where(x => x is not null).ToList();
            var numeric = cells.Length > 0 && numbers.Count >= 0.8 * cells.Length;
            var timeName = Has(c, "scored", "date", "timestamp") || c.EndsWith("_at", StringComparison.OrdinalIgnoreCase) || c.EndsWith("At", StringComparison.Ordinal);
            if (scoredAt is null && (timeName || (!numeric && cells.Length > 0 && cells.All(v => DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)))))
            {
                scoredAt = c;
                continue;
            }
            string? field = null;
            if (Has(c, "segment", "cluster")) field = InsightFields.Segment;
            else if (Has(c, "engag")) field = InsightFields.Engagement;
            else if (Has(c, "top", "affinit", "recommend", "items", "favo") || (!numeric && cells.Length > 0 && cells.All(v => v!.Contains('|') || v.StartsWith('['))))
                field = InsightFields.Top;
            else if (numeric && Has(c, "value", "clv", "ltv", "revenue", "amount", "spend")) field = InsightFields.Value;
            else if (numeric && numbers.All(x => x is >= 0 and <= 1)) field = InsightFields.Score;
            else if (numeric && numbers.All(x => x is >= 0 and <= 100) && Has(c, "index", "level")) field = InsightFields.Engagement;
            else if (numeric) field = InsightFields.Value;
            if (field is null || !used.Add(field))
            {
                var custom = CustomName(c);
                if (custom is null || !used.Add(custom)) continue;
                field = custom;
            }
            fields[c] = field;
        }
        return new InsightImportSuggestion(identity, ns, fields, scoredAt, SuggestName(fileName));
    }

    /// <summary>400-level problems of a request against the file's columns (field -> messages); empty when it is well-formed.</summary>
    public static Dictionary<string, string[]> Check(InsightImportRequest request, IReadOnlyList<string>? columns)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100) errors["name"] = ["An import needs a name of at most 100 characters (it becomes insights.<name> on profiles)."];
        else if (!name.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or ' '))
            errors["name"] = ["A name may hold letters, digits, spaces, '-' and '_' only (it becomes the key insights.<name> on profiles)."];
        bool Known(string c) => columns is null || columns.Contains(c, StringComparer.Ordinal);
        var idColumn = request.Identity?.Column;
        if (string.IsNullOrWhiteSpace(idColumn)) errors["identity.column"] = ["Name the column that holds each person's identity."];
        else if (!Known(idColumn)) errors["identity.column"] = [$"The file has no column '{idColumn}'."];
        if (string.IsNullOrWhiteSpace(request.Identity?.Namespace)) errors["identity.namespace"] = ["Name the identity namespace of that column (e.g. CRMID or Email)."];
        if (request.Fields is null || request.Fields.Count == 0) errors["fields"] = ["Map at least one column to an insight field (score, value, segment, engagement, top or a name of your own)."];
        else
        {
            var bad = new List<string>();
            foreach (var (column, field) in request.Fields)
            {
                if (!Known(column)) bad.Add($"The file has no column '{column}'.");
                else if (column == idColumn) bad.Add($"'{column}' is the identity column; it cannot be an insight field too.");
                else if (column == request.ScoredAtColumn) bad.Add($"'{column}' is the scoredAt column; it cannot be an insight field too.");
                if (InsightFields.Reserved.Contains(field, StringComparer.OrdinalIgnoreCase))
                    bad.Add($"'{field}' is written by the import (use modelVersion or scoredAtColumn).");
                else if (!InsightFields.IsValidName(field)) bad.Add($"'{field}' is not a field name: use score, value, segment, engagement, top, or a name of letters, digits and '_'.");
            }
            var dup = request.Fields.GroupBy(kv => kv.Value, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null) bad.Add($"Several columns map to '{dup.Key}': {string.Join(", ", dup.Select(kv => $"'{kv.Key}'"))}.");
            if (bad.Count > 0) errors["fields"] = [.. bad];
        }
        if (request.ScoredAtColumn is { } sa && !string.IsNullOrWhiteSpace(sa) && !Known(sa)) errors["scoredAtColumn"] = [$"The file has no column '{sa}'."];
        if (request.ModelVersion is { Length: > 100 }) errors["modelVersion"] = ["modelVersion has at most 100 characters."];
        if (request.ErrorThreshold is { } t && (double.IsNaN(t) || t < 0 || t > 100)) errors["errorThreshold"] = ["errorThreshold must be a percentage between 0 and 100."];
        return errors;
    }

    /// <summary>
    /// Starts an import of a staged upload: checks the request (400), the namespace (422) and that no model of this sandbox owns the
    /// name (409), makes or reuses the dataset, rewrites the rows and queues the batch. The staged file is consumed.
    /// </summary>
    public async Task<InsightImportStarted> StartAsync(InsightImportRequest request, StagedUpload staged, string? actor, CancellationToken ct = default)
    {
        string? rewritten = null;
        try
        {
            var preview = await IngestPreview.PreviewAsync(staged.Path, staged.FileName, request.Delimiter, 0, null, ct);
            if (preview.Error is not null) throw CatalogException.Invalid("file", "The file cannot be read: " + preview.Error);
            if (preview.Format != InputFormat.Csv) throw CatalogException.Invalid("file", "Bring scores as a CSV file (.csv or .csv.gz) with a header row.");
            var errors = Check(request, preview.Columns);
            if (errors.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", errors.SelectMany(e => e.Value)), errors);
            var name = request.Name!.Trim();
            var ns = await namespaces.FindAsync(request.Identity!.Namespace!.Trim(), ct)
                     ?? throw CatalogException.Rule($"There is no identity namespace '{request.Identity.Namespace}' in this sandbox; create it first or pick an existing one.",
                         new Dictionary<string, string[]> { ["identity.namespace"] = [$"Unknown identity namespace '{request.Identity.Namespace}'."] });
            var lower = name.ToLowerInvariant();
            if (await db.Set<Model>().AnyAsync(m => m.Name.ToLower() == lower, ct))
                throw CatalogException.Conflict($"The model '{name}' of this sandbox writes insights.{name}; give the imported scores another name.",
                    new Dictionary<string, string[]> { ["name"] = [$"A model named '{name}' exists."] });

            var (dataset, schemaId, identityField, created) = await EnsureDatasetAsync(name, request.Identity.Column!, ns.Code, actor, ct);
            rewritten = Path.Combine(Path.GetDirectoryName(staged.Path)!, Guid.NewGuid().ToString("N"));
            var uploadedAt = clock.GetUtcNow();
            await Task.Run(() => Rewrite(staged, request, name, identityField, uploadedAt, rewritten), ct);
            var output = new StagedUpload(rewritten, CsvName(staged.FileName), new FileInfo(rewritten).Length, staged.StartedAt, clock.GetUtcNow());
            var options = new BatchOptions
            {
                Delimiter = ',', ErrorThreshold = request.ErrorThreshold ?? 5,
                Mapping = new Dictionary<string, string> { [identityField] = identityField, [InsightsField] = InsightsField },
            };
            var batch = await ingestion.CreateBatchAsync(dataset.Id, output, options, null, actor, ct);
            return new InsightImportStarted(batch.Batch.Id, dataset.Id, schemaId, name, identityField, created, batch.Batch.Status);
        }
        finally
        {
            IngestionService.Discard(staged);
            if (rewritten is not null && File.Exists(rewritten)) File.Delete(rewritten);
        }
    }

    /// <summary>The reason a row of an import was rejected, for people: the import's own rule when it broke one, else the ingestion's message.</summary>
    public static string Reason(string? field, string message) =>
        field == InsightsField && message.StartsWith(NotAMap, StringComparison.Ordinal) && message.EndsWith('\'') ? message[NotAMap.Length..^1] : message;

    /// <summary>Profiles the batch wrote (for "open a sample profile").</summary>
    public Task<List<string>> SampleProfilesAsync(string batchId, int count = 5, CancellationToken ct = default) =>
        db.Set<ProfileFragment>().AsNoTracking().Where(f => f.BatchId == batchId).OrderBy(f => f.RecordKey).Select(f => f.ProfileId).Distinct().Take(count).ToListAsync(ct);

    /// <summary>The datasets imports made in this sandbox (name -> dataset).</summary>
    public Task<List<Dataset>> ImportDatasetsAsync(CancellationToken ct = default) =>
        datasets.Query().Where(d => d.Name.StartsWith(DatasetPrefix)).OrderBy(d => d.Name).ToListAsync(ct);

    private async Task<(Dataset Dataset, string SchemaId, string IdentityField, bool Created)> EnsureDatasetAsync(
        string name, string column, string ns, string? actor, CancellationToken ct)
    {
        var dsName = DatasetName(name);
        var lower = dsName.ToLowerInvariant();
        var dataset = await datasets.Query().FirstOrDefaultAsync(d => d.Name.ToLower() == lower, ct);
        var schema = dataset is not null
            ? await schemas.GetAsync(dataset.SchemaId, ct)
            : await schemas.Query().FirstOrDefaultAsync(s => s.Name.ToLower() == lower, ct);
        string identityField;
        if (schema is not null)
        {
            var def = schema.ToDefinition();
            var primary = def.PrimaryIdentity;
            if (primary is null || def.Find(InsightsField) is not { Type: FieldType.Map })
                throw CatalogException.Conflict($"'{dsName}' exists but is not an import of scores (it needs a primary identity and the insights map); rename it or pick another name.");
            if (!string.Equals(primary.Identity!.Namespace, ns, StringComparison.OrdinalIgnoreCase))
                throw CatalogException.Conflict($"Scores named '{name}' were imported with identities in {primary.Identity.Namespace}; import these in {primary.Identity.Namespace} too, or pick another name.",
                    new Dictionary<string, string[]> { ["identity.namespace"] = [$"'{name}' uses {primary.Identity.Namespace}."] });
            identityField = primary.Path;
        }
        else
        {
            identityField = await ProfileIdentityPathAsync(ns, ct) ?? IdentityPath(column);
            schema = await schemas.CreateAsync(new SchemaDraft(dsName, SchemaClass.Profile,
            [
                new SchemaField { Path = identityField, Type = FieldType.String, Required = true, Identity = new IdentityMapping(ns, Primary: true), Description = $"Identity ({ns}) from the column '{column}'" },
                new SchemaField { Path = InsightsField, Type = FieldType.Map, ValueType = FieldType.Object, Description = "Model results by name: insights.<name> = { score | value | segment | engagement | top, modelVersion, scoredAt }" },
            ], $"Scores imported from outside tools as insights.{name}."), actor, ct);
        }
        if (!schema.ProfileEnabled) await schemas.EnableProfileAsync(schema.Id, actor, ct);
        var created = false;
        if (dataset is null)
        {
            dataset = await datasets.CreateAsync(dsName, schema.Id, $"Scores imported from outside tools; every row becomes insights.{name} on the profile of its identity.", actor, ct);
            created = true;
        }
        if (!dataset.ProfileEnabled) dataset = await datasets.EnableProfileAsync(dataset.Id, actor, ct: ct);
        return (dataset, schema.Id, identityField, created);
    }

    /// <summary>
    /// The path the sandbox's own profile data keeps identities of this namespace under (e.g. <c>customerId</c> for CRMID), so the
    /// import's identity lands on an attribute profiles already have instead of adding one named after the file's column.
    /// </summary>
    private async Task<string?> ProfileIdentityPathAsync(string ns, CancellationToken ct)
    {
        var candidates = await schemas.Query().Where(s => s.ProfileEnabled && s.PrimaryIdentityPath != null && !s.Name.StartsWith(DatasetPrefix))
            .OrderBy(s => s.CreatedAt).Take(50).ToListAsync(ct);
        return candidates.Select(s => s.ToDefinition().PrimaryIdentity)
            .FirstOrDefault(f => f is { Type: FieldType.String, Identity: { } id } && string.Equals(id.Namespace, ns, StringComparison.OrdinalIgnoreCase)
                                 && SchemaPaths.IsValidPath(f.Path) && !f.Path.Contains('.') && f.Path != InsightsField)?.Path;
    }

    /// <summary>Writes one (identity, insights) row per data row of the input, so row numbers stay those of the user's file.</summary>
    internal static void Rewrite(StagedUpload staged, InsightImportRequest request, string name, string identityField, DateTimeOffset uploadedAt, string output)
    {
        var (_, gzip) = InputOpener.Detect(staged.Path, staged.FileName);
        using var input = InputOpener.Open(staged.Path, gzip);
        using var text = new StreamReader(input, new UTF8Encoding(false, true), true);
        var reader = new CsvRecordReader(text, request.Delimiter, '"') { MaxRecordChars = 1 << 20 };
        using var writer = new StreamWriter(output, false, new UTF8Encoding(false), 1 << 16);
        var header = new List<string>();
        if (!reader.TryRead(header, out _)) throw CatalogException.Invalid("file", "The file is empty.");
        var cols = header.Select(h => h.Trim()).ToList();
        int Index(string c) => cols.FindIndex(x => string.Equals(x, c, StringComparison.Ordinal));
        var idIndex = Index(request.Identity!.Column!);
        var mapped = request.Fields!.Select(kv => (Column: kv.Key, Field: kv.Value.Trim(), Index: Index(kv.Key))).ToList();
        var scoredAtIndex = string.IsNullOrWhiteSpace(request.ScoredAtColumn) ? -1 : Index(request.ScoredAtColumn);
        var version = string.IsNullOrWhiteSpace(request.ModelVersion) ? DefaultModelVersion : request.ModelVersion.Trim();
        var defaultScoredAt = uploadedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        writer.Write(identityField);
        writer.Write(',');
        writer.Write(InsightsField);
        writer.Write('\n');
        var row = new List<string>();
        var line = new string[2];
        while (reader.TryRead(row, out var status))
        {
            string? reason = null;
            var id = idIndex < row.Count ? row[idIndex] : "";
            JsonObject? values = null;
            if (status == CsvRecordStatus.UnterminatedQuote) reason = "row: a quoted field is not closed";
            else if (status == CsvRecordStatus.TooLarge) reason = "row: longer than 1 MB";
            else if (row.Count != cols.Count) reason = $"row: {row.Count} fields where the header has {cols.Count}";
            else (values, reason) = Values(row, mapped, scoredAtIndex, version, defaultScoredAt);
            line[0] = id;
            line[1] = reason ?? new JsonObject { [name] = values }.ToJsonString();
            writer.Write(CsvRecordReader.Format(line, ',', '"', int.MaxValue));
            writer.Write('\n');
        }
    }

    /// <summary>One preview row as the import will write it: <c>insights.&lt;name&gt;</c> as JSON, or the reason the row will be rejected.</summary>
    public static (string? Json, string? Reason) PreviewRow(IReadOnlyList<string> columns, IReadOnlyList<string?> row, InsightImportRequest request, DateTimeOffset uploadedAt)
    {
        if (request.Fields is null || request.Fields.Count == 0) return (null, "no column is mapped");
        int Index(string? c) => c is null ? -1 : columns.ToList().FindIndex(x => string.Equals(x, c, StringComparison.Ordinal));
        if (row.Count != columns.Count) return (null, $"row: {row.Count} fields where the header has {columns.Count}");
        var idIndex = Index(request.Identity?.Column);
        if (idIndex < 0 || string.IsNullOrWhiteSpace(row[idIndex])) return (null, "no identity in this row");
        var mapped = request.Fields.Select(kv => (Column: kv.Key, Field: kv.Value.Trim(), Index: Index(kv.Key))).Where(m => m.Index >= 0).ToList();
        var version = string.IsNullOrWhiteSpace(request.ModelVersion) ? DefaultModelVersion : request.ModelVersion.Trim();
        var (values, reason) = Values(row.Select(c => c ?? "").ToList(), mapped, Index(request.ScoredAtColumn), version,
            uploadedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        return (values?.ToJsonString(), reason);
    }

    private static (JsonObject? Values, string? Reason) Values(List<string> row, List<(string Column, string Field, int Index)> mapped, int scoredAtIndex, string version, string defaultScoredAt)
    {
        var o = new JsonObject();
        foreach (var (column, field, index) in mapped)
        {
            var cell = row[index].Trim();
            if (cell.Length == 0) continue;
            var f = Standard(field);
            switch (f)
            {
                case InsightFields.Score or InsightFields.Value or InsightFields.Engagement:
                    if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
                        return (null, $"{f} (column {Short(column)}): {Short(cell)} is not a number");
                    if (f == InsightFields.Score && x is < 0 or > 1) return (null, $"score (column {Short(column)}): {Short(cell)} is not between 0 and 1");
                    if (f == InsightFields.Engagement && x is < 0 or > 100) return (null, $"engagement (column {Short(column)}): {Short(cell)} is not between 0 and 100");
                    o[f] = x;
                    break;
                case InsightFields.Top:
                    o[f] = new JsonArray(TopItems(cell).Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
                    break;
                case InsightFields.Segment:
                    o[f] = cell;
                    break;
                default:
                    o[f] = double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) ? JsonValue.Create(n) : JsonValue.Create(cell);
                    break;
            }
        }
        if (o.Count == 0) return (null, "row: no value in any mapped column");
        o[InsightFields.ModelVersion] = version;
        if (scoredAtIndex >= 0 && row[scoredAtIndex].Trim() is { Length: > 0 } at)
        {
            if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                return (null, $"scoredAt: {Short(at)} is not a date or time");
            o[InsightFields.ScoredAt] = t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }
        else o[InsightFields.ScoredAt] = defaultScoredAt;
        return (o, null);
    }

    /// <summary>A standard field in its canonical spelling (Score -> score); custom names unchanged.</summary>
    private static string Standard(string field) => InsightFields.Standard.FirstOrDefault(s => s.Equals(field, StringComparison.OrdinalIgnoreCase)) ?? field;

    /// <summary>Top items from a JSON array, or text separated by '|' or ';' (or ',' when there is no other separator).</summary>
    internal static IReadOnlyList<string> TopItems(string cell)
    {
        if (cell.StartsWith('['))
        {
            try
            {
                if (JsonNode.Parse(cell) is JsonArray a) return a.Select(n => n?.ToString() ?? "").Where(s => s.Length > 0).ToList();
            }
            catch (System.Text.Json.JsonException) { }
        }
        var sep = cell.Contains('|') ? '|' : cell.Contains(';') ? ';' : ',';
        return cell.Split(sep, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }

    private static string Short(string s) => "'" + (s.Length <= 24 ? s : s[..21] + "...") + "'";

    /// <summary>A schema path for the identity column (letters, digits, '_' and '-'; not <c>insights</c>).</summary>
    internal static string IdentityPath(string column)
    {
        var p = new string(column.Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray());
        if (p.Length == 0 || !(char.IsAsciiLetter(p[0]) || p[0] == '_')) p = "id_" + p;
        if (p.Equals(InsightsField, StringComparison.OrdinalIgnoreCase)) p = "identity";
        return p.Length <= 64 ? p : p[..64];
    }

    private static string? CustomName(string column)
    {
        var p = new string(column.Trim().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray()).Trim('_');
        if (p.Length == 0 || !char.IsAsciiLetter(p[0])) return null;
        if (p.Length > 64) p = p[..64];
        return InsightFields.Reserved.Contains(p, StringComparer.OrdinalIgnoreCase) || InsightFields.Standard.Contains(p, StringComparer.OrdinalIgnoreCase) ? null : p;
    }

    private static string? SuggestName(string? fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName)) return null;
        var stem = Path.GetFileName(fileName);
        foreach (var ext in new[] { ".gz", ".csv", ".txt" })
            if (stem.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) stem = stem[..^ext.Length];
        var n = new string(stem.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' ? c : ' ').ToArray()).Trim();
        return n.Length is > 0 and <= 100 ? n : null;
    }

    private static string CsvName(string fileName)
    {
        var n = fileName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? fileName[..^3] : fileName;
        return n.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? n : n + ".csv";
    }
}
