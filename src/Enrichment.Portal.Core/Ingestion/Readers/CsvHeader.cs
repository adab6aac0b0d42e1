namespace Enrichment.Portal.Core.Ingestion.Readers;

/// <summary>Rules of a CSV header row.</summary>
public static class CsvHeader
{
    /// <summary>
    /// Columns are matched by name (case-insensitive), so two columns of one name would lose one of them silently:
    /// the file is refused, naming the columns.
    /// </summary>
    public static void RejectDuplicates(IReadOnlyList<string> columns)
    {
        if (Duplicates(columns) is { } message) throw new IngestFailureException(message);
    }

    /// <summary>Null, or the sentence that names the first duplicated header name and its column numbers.</summary>
    public static string? Duplicates(IReadOnlyList<string> columns)
    {
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < columns.Count; i++)
        {
            if (seen.TryAdd(columns[i], i)) continue;
            var first = seen[columns[i]];
            var all = Enumerable.Range(0, columns.Count).Where(k => string.Equals(columns[k], columns[i], StringComparison.OrdinalIgnoreCase)).Select(k => (k + 1).ToString()).ToList();
            return $"the header names '{columns[first]}' more than once (columns {string.Join(", ", all)}): rename the columns so that each name is used once, so no value is lost";
        }
        return null;
    }
}
