using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enrichment.Portal.Web.Notebooks;

/// <summary>What a generated notebook is about: the names and values its placeholders get.</summary>
public sealed record NotebookContext
{
    public required string Title { get; init; }
    /// <summary>"the dataset X" / "the newest profile snapshot", for the introduction.</summary>
    public required string SourceText { get; init; }
    public required string BaseUrl { get; init; }
    /// <summary>The dataset to read; null reads the newest profile snapshot.</summary>
    public string? DatasetId { get; init; }
    public required string IdentityColumn { get; init; }
    public required string IdentityNamespace { get; init; }
    public string? Label { get; init; }
    public string? Positive { get; init; }
    public IReadOnlyList<string>? Features { get; init; }
    public IReadOnlyList<string> Exclude { get; init; } = [];
    public required string Insight { get; init; }
    /// <summary>Training-run notebooks only.</summary>
    public string? ModelName { get; init; }
    public string? RunId { get; init; }
    public string? Recipe { get; init; }
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}

/// <summary>
/// The Jupyter notebooks "Open in notebook" downloads, generated from the templates in <c>Notebooks/Templates/*.ipynb</c>
/// (embedded in the assembly). Code cells hold placeholders <c>__EP_NAME__</c>, replaced by Python literals (strings
/// escaped, <c>None</c> for nothing); markdown cells hold <c>{{EP_NAME}}</c>, replaced by text. No API key is ever
/// written: the notebook reads <c>EP_API_KEY</c> from its environment. The Python client (clients/python) is embedded
/// too and served as a zip, so a notebook runs where the repository is not checked out.
/// </summary>
public static class NotebookTemplates
{
    public const string DatasetTemplate = "dataset";
    public const string TrainingRunTemplate = "training-run";
    public const string ContentType = "application/x-ipynb+json";

    private static readonly Assembly Assembly = typeof(NotebookTemplates).Assembly;
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The template's text as committed (<c>Notebooks/Templates/&lt;name&gt;.ipynb</c>).</summary>
    public static string Template(string name)
    {
        using var s = Assembly.GetManifestResourceStream($"Notebooks.{name}.ipynb")
            ?? throw new InvalidOperationException($"No notebook template '{name}' is embedded.");
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    /// <summary>The files of the embedded Python client package: (file name, bytes).</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> ClientFiles()
    {
        const string prefix = "PythonClient.";
        var files = new List<(string, byte[])>();
        foreach (var res in Assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var s = Assembly.GetManifestResourceStream(res)!;
            using var m = new MemoryStream();
            s.CopyTo(m);
            files.Add((res[prefix.Length..], m.ToArray()));
        }
        return files;
    }

    /// <summary>A short hash of the client files: notebooks cache the fetched client per version.</summary>
    public static string ClientVersion { get; } = ComputeClientVersion();

    private static string ComputeClientVersion()
    {
        using var sha = SHA256.Create();
        foreach (var (name, bytes) in ClientFiles())
        {
            var n = Encoding.UTF8.GetBytes(name + "\n");
            sha.TransformBlock(n, 0, n.Length, null, 0);
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return Convert.ToHexStringLower(sha.Hash!)[..12];
    }

    /// <summary>The client as a zip holding <c>enrichment_portal/*.py</c> (what <c>GET /api/v1/clients/python</c> sends).</summary>
    public static byte[] ClientZip()
    {
        using var m = new MemoryStream();
        using (var zip = new ZipArchive(m, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in ClientFiles())
            {
                var entry = zip.CreateEntry("enrichment_portal/" + name, CompressionLevel.Optimal);
                entry.LastWriteTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var e = entry.Open();
                e.Write(bytes);
            }
        return m.ToArray();
    }

    /// <summary>The notebook (nbformat 4 JSON) of the template with every placeholder filled in.</summary>
    public static string Generate(string template, NotebookContext ctx, DateTimeOffset now)
    {
        var code = new Dictionary<string, string>
        {
            ["BASE_URL"] = Py(ctx.BaseUrl),
            ["CLIENT_VERSION"] = Py(ClientVersion),
            ["DATASET_ID"] = Py(ctx.DatasetId),
            ["IDENTITY_COLUMN"] = Py(ctx.IdentityColumn),
            ["IDENTITY_NAMESPACE"] = Py(ctx.IdentityNamespace),
            ["LABEL"] = Py(ctx.Label),
            ["POSITIVE"] = Py(ctx.Positive),
            ["FEATURES"] = ctx.Features is null ? "None" : PyList(ctx.Features),
            ["EXCLUDE"] = PyList(ctx.Exclude),
            ["INSIGHT"] = Py(ctx.Insight),
            ["MODEL_NAME"] = Py(ctx.ModelName),
            ["RUN_ID"] = Py(ctx.RunId),
            ["METRICS"] = "{" + string.Join(", ", (ctx.Metrics ?? new Dictionary<string, double>())
                .Where(kv => double.IsFinite(kv.Value)).Select(kv => Py(kv.Key) + ": " + kv.Value.ToString("R", CultureInfo.InvariantCulture))) + "}",
        };
        const string metricText = "AUC (classification) or RMSE (a number)";
        var text = new Dictionary<string, string>
        {
            ["TITLE"] = Md(ctx.Title),
            ["SOURCE"] = Md(ctx.SourceText),
            ["BASE_URL"] = Md(ctx.BaseUrl),
            ["GENERATED"] = now.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["INSIGHT"] = ctx.Insight, // inside a code span; the name holds letters, digits, spaces, - and _ only
            ["METRIC_TEXT"] = metricText,
            ["MODEL_NAME"] = Md(ctx.ModelName ?? ""),
            ["RUN_ID"] = Md(ctx.RunId ?? ""),
            ["RECIPE"] = Md(ctx.Recipe ?? ""),
        };

        var nb = JsonNode.Parse(Template(template))!.AsObject();
        foreach (var cell in nb["cells"]!.AsArray())
        {
            var isCode = cell!["cell_type"]!.GetValue<string>() == "code";
            var lines = cell["source"] switch
            {
                JsonArray a => a.Select(l => l!.GetValue<string>()).ToList(),
                JsonValue v => [v.GetValue<string>()],
                _ => [],
            };
            var filled = new JsonArray();
            foreach (var line in lines)
            {
                var s = line;
                foreach (var (k, v) in isCode ? code : text)
                    s = s.Replace(isCode ? $"__EP_{k}__" : "{{EP_" + k + "}}", v, StringComparison.Ordinal);
                if (s.Contains("__EP_", StringComparison.Ordinal) || s.Contains("{{EP_", StringComparison.Ordinal))
                    throw new InvalidOperationException($"The notebook template '{template}' has a placeholder the generator does not know: {s.Trim()}");
                filled.Add(s);
            }
            cell["source"] = filled;
        }
        nb["metadata"]!["enrichment_portal"] = new JsonObject
        {
            ["template"] = template, ["generatedAt"] = now.ToString("O", CultureInfo.InvariantCulture), ["baseUrl"] = ctx.BaseUrl,
            ["datasetId"] = ctx.DatasetId, ["runId"] = ctx.RunId, ["insight"] = ctx.Insight, ["clientVersion"] = ClientVersion,
        };
        return nb.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    /// <summary>A Python string literal (JSON string escapes are valid Python escapes), or <c>None</c>.</summary>
    public static string Py(string? s) => s is null ? "None" : JsonSerializer.Serialize(s, Relaxed);

    public static string PyList(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Py)) + "]";

    /// <summary>Text for markdown: characters that would start markup are escaped.</summary>
    public static string Md(string s)
    {
        var b = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            if (c is '\r' or '\n') { b.Append(' '); continue; }
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '#' or '|') b.Append('\\');
            b.Append(c);
        }
        return b.ToString();
    }
}
