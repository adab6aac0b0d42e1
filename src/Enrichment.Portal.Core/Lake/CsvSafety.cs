using System.Globalization;

namespace Enrichment.Portal.Core.Lake;

/// <summary>
/// CSV files the portal hands out (query results, rejected rows, audience exports) are opened in spreadsheets, which run a
/// cell that starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return as a formula ("CSV injection").
/// Such a text cell is written with a leading <c>'</c>, which spreadsheets show as text; a cell that is a plain number
/// (<c>-5</c>, <c>+1.5e3</c>) is left as it is. Stored data is never changed: only what is exported.
/// </summary>
public static class CsvSafety
{
    private static bool Risky(char c) => c is '=' or '+' or '-' or '@' or '\t' or '\r';

    public static string Neutralize(string cell) =>
        cell.Length > 0 && Risky(cell[0]) && !double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? "'" + cell : cell;

    /// <summary>The same rule as a DuckDB SQL expression over a VARCHAR expression (for <c>COPY ... TO csv</c>).</summary>
    public static string NeutralizeSql(string expression) =>
        $"CASE WHEN regexp_matches({expression}, '^[=+\\-@\\t\\r]') AND TRY_CAST({expression} AS DOUBLE) IS NULL THEN '''' || {expression} ELSE {expression} END";
}
