using System.IO.Compression;
using System.Text;

namespace Enrichment.Portal.Core.Schemas.Xdm;

/// <summary>Raised when an XDM source cannot be read (bad zip, missing entry, too large); the message says why.</summary>
public sealed class XdmSourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The files of an XDM import: relative path (with <c>/</c>) -> JSON text, and the entry schema among them.
/// Either one self-contained schema, or a schema with the components it references (e.g. an uploaded zip).
/// </summary>
public sealed class XdmSource
{
    /// <summary>Most files accepted from a zip or a folder.</summary>
    public const int MaxFiles = 5_000;

    /// <summary>Most bytes (uncompressed) accepted from a zip or a folder.</summary>
    public const long MaxTotalBytes = 64L * 1024 * 1024;

    private XdmSource(IReadOnlyDictionary<string, string> files, string entryPath)
    {
        Files = files;
        EntryPath = entryPath;
    }

    /// <summary>Relative path (forward slashes, no leading slash) -> file content.</summary>
    public IReadOnlyDictionary<string, string> Files { get; }

    /// <summary>The path of the schema to import, a key of <see cref="Files"/>.</summary>
    public string EntryPath { get; }

    /// <summary>One self-contained JSON schema.</summary>
    public static XdmSource FromJson(string json, string fileName = "schema.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        var name = NormalizePath(fileName);
        return new(new Dictionary<string, string>(StringComparer.Ordinal) { [name] = json }, name);
    }

    /// <summary>A set of files with the entry schema among them.</summary>
    public static XdmSource FromFiles(IReadOnlyDictionary<string, string> files, string entryPath)
    {
        ArgumentNullException.ThrowIfNull(files);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in files) map[NormalizePath(k)] = v;
        var entry = NormalizePath(entryPath);
        if (!map.ContainsKey(entry))
            throw new XdmSourceException($"The entry schema '{entryPath}' is not among the {map.Count} provided files.");
        return new(map, entry);
    }

    /// <summary>
    /// The <c>.json</c> files of a zip. <paramref name="entryPath"/> names the schema to import; when null, the zip must
    /// hold exactly one JSON file that no other file references by <c>$id</c> or path (the top of the composition).
    /// </summary>
    public static XdmSource FromZip(Stream zip, string? entryPath = null)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        long total = 0;
        try
        {
            using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
            foreach (var e in archive.Entries)
            {
                if (e.FullName.EndsWith('/') || !e.FullName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) continue;
                if (e.FullName.Contains("__MACOSX/", StringComparison.Ordinal)) continue;
                if (files.Count >= MaxFiles) throw new XdmSourceException($"The zip holds more than {MaxFiles} JSON files.");
                total += e.Length;
                if (total > MaxTotalBytes) throw new XdmSourceException($"The zip's JSON files are larger than {MaxTotalBytes / (1024 * 1024)} MB uncompressed.");
                using var s = e.Open();
                using var reader = new StreamReader(s, Encoding.UTF8);
                files[NormalizePath(e.FullName)] = reader.ReadToEnd();
            }
        }
        catch (InvalidDataException ex)
        {
            throw new XdmSourceException("The upload is not a valid zip file: " + ex.Message, ex);
        }
        if (files.Count == 0) throw new XdmSourceException("The zip holds no .json file.");
        return entryPath is not null ? FromFiles(files, FindEntry(files, entryPath)) : new(files, GuessEntry(files));
    }

    /// <summary>Every <c>.json</c> file under <paramref name="root"/>; <paramref name="entrySchemaRelativePath"/> is relative to it.</summary>
    public static XdmSource FromDirectory(string root, string entrySchemaRelativePath)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!Directory.Exists(root)) throw new XdmSourceException($"The folder '{root}' does not exist.");
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var path in Directory.EnumerateFiles(root, "*.json", SearchOption.AllDirectories))
        {
            if (files.Count >= MaxFiles) throw new XdmSourceException($"The folder holds more than {MaxFiles} JSON files.");
            total += new FileInfo(path).Length;
            if (total > MaxTotalBytes) throw new XdmSourceException($"The folder's JSON files are larger than {MaxTotalBytes / (1024 * 1024)} MB.");
            files[NormalizePath(Path.GetRelativePath(root, path))] = File.ReadAllText(path);
        }
        return FromFiles(files, entrySchemaRelativePath);
    }

    /// <summary>Returns a copy with one more (or a replaced) file, e.g. a synthetic entry schema composing files of the set.</summary>
    public XdmSource WithFile(string path, string content, bool makeEntry = false)
    {
        var map = new Dictionary<string, string>(Files, StringComparer.Ordinal) { [NormalizePath(path)] = content };
        return new(map, makeEntry ? NormalizePath(path) : EntryPath);
    }

    internal static string NormalizePath(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Replace('\\', '/').Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    private static string FindEntry(Dictionary<string, string> files, string entryPath)
    {
        var n = NormalizePath(entryPath);
        if (files.ContainsKey(n)) return n;
        // A zip often wraps everything in one top folder: accept the entry relative to it.
        var match = files.Keys.Where(k => k.EndsWith("/" + n, StringComparison.Ordinal)).ToList();
        return match.Count == 1 ? match[0] : n;
    }

    private static string GuessEntry(Dictionary<string, string> files)
    {
        if (files.Count == 1) return files.Keys.First();
        var candidates = files.Keys.Where(k => !k.Contains(".example.", StringComparison.Ordinal) && !k.Contains(".invalid.", StringComparison.Ordinal)).ToList();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var k in candidates)
            if (XdmJson.TryReadId(files[k]) is { } id) ids[k] = id;
        var referenced = candidates.Where(k =>
            files.Where(o => o.Key != k).Any(o =>
                (ids.TryGetValue(k, out var id) && o.Value.Contains('"' + id, StringComparison.Ordinal))
                || o.Value.Contains(Path.GetFileName(k), StringComparison.Ordinal)))
            .ToHashSet(StringComparer.Ordinal);
        var tops = candidates.Where(k => !referenced.Contains(k)).ToList();
        return tops.Count switch
        {
            1 => tops[0],
            0 => throw new XdmSourceException("Cannot tell which file of the zip is the schema to import (every file is referenced by another); name the entry schema."),
            _ => throw new XdmSourceException($"Cannot tell which file of the zip is the schema to import; candidates: {string.Join(", ", tops.Take(10))}. Name the entry schema."),
        };
    }
}
