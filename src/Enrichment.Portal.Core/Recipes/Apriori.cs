namespace Enrichment.Portal.Core.Recipes;

/// <summary>An association rule {antecedent} =&gt; {consequent} with support (share of baskets with all items), confidence and lift.</summary>
public sealed record AssociationRule(IReadOnlyList<string> Antecedent, string Consequent, double Support, double Confidence, double Lift, int Count);

/// <summary>
/// Apriori frequent itemsets over baskets (transactions as bitsets), and rules with a single-item consequent
/// (arules style): support &gt;= minSupport, confidence &gt;= minConfidence, rule length (items in antecedent and
/// consequent) &gt;= minLength.
/// </summary>
public static class Apriori
{
    public static IReadOnlyList<AssociationRule> Rules(IReadOnlyList<IReadOnlyCollection<string>> baskets, double minSupport, double minConfidence,
        int minLength = 2, int maxLength = 10, CancellationToken ct = default)
    {
        if (minSupport is <= 0 or > 1) throw new ModelTrainingException("minSupport must be in (0, 1].");
        var n = baskets.Count;
        if (n == 0) return [];
        var words = (n + 63) / 64;
        var items = baskets.SelectMany(b => b).Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        var index = items.Select((s, i) => (s, i)).ToDictionary(t => t.s, t => t.i, StringComparer.Ordinal);
        var bits = items.Select(_ => new ulong[words]).ToArray();
        for (var t = 0; t < n; t++)
            foreach (var it in baskets[t]) bits[index[it]][t >> 6] |= 1UL << (t & 63);
        var minCount = (int)Math.Ceiling(minSupport * n - 1e-9);

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        static string Key(IEnumerable<int> set) => string.Join(",", set);
        var level = new List<(int[] Set, ulong[] Bits)>();
        for (var i = 0; i < items.Length; i++)
        {
            var c = Pop(bits[i]);
            if (c >= minCount) { level.Add(([i], bits[i])); counts[Key([i])] = c; }
        }
        var frequent = new List<int[]>();
        for (var size = 2; size <= maxLength && level.Count > 1; size++)
        {
            ct.ThrowIfCancellationRequested();
            var next = new List<(int[], ulong[])>();
            for (var i = 0; i < level.Count; i++)
                for (var j = i + 1; j < level.Count; j++)
                {
                    var (a, b) = (level[i].Set, level[j].Set);
                    if (!SamePrefix(a, b)) break;
                    var cand = a.Append(b[^1]).ToArray();
                    if (!AllSubsetsFrequent(cand, counts)) continue;
                    var and = new ulong[words];
                    for (var w = 0; w < words; w++) and[w] = level[i].Bits[w] & bits[b[^1]][w];
                    var c = Pop(and);
                    if (c < minCount) continue;
                    counts[Key(cand)] = c;
                    next.Add((cand, and));
                    frequent.Add(cand);
                }
            level = next;
        }

        var rules = new List<AssociationRule>();
        foreach (var set in frequent.Where(s => s.Length >= minLength))
        {
            var c = counts[Key(set)];
            foreach (var consequent in set)
            {
                var ante = set.Where(i => i != consequent).ToArray();
                var conf = (double)c / counts[Key(ante)];
                if (conf < minConfidence) continue;
                var lift = conf / ((double)counts[Key([consequent])] / n);
                rules.Add(new AssociationRule(ante.Select(i => items[i]).ToArray(), items[consequent], (double)c / n, conf, lift, c));
            }
        }
        return rules.OrderByDescending(r => r.Lift).ThenByDescending(r => r.Support).ThenBy(r => string.Join(",", r.Antecedent), StringComparer.Ordinal).ThenBy(r => r.Consequent, StringComparer.Ordinal).ToArray();
    }

    private static bool SamePrefix(int[] a, int[] b)
    {
        for (var k = 0; k < a.Length - 1; k++) if (a[k] != b[k]) return false;
        return true;
    }

    private static bool AllSubsetsFrequent(int[] cand, Dictionary<string, int> counts)
    {
        if (cand.Length <= 2) return true;
        for (var skip = 0; skip < cand.Length - 2; skip++)
            if (!counts.ContainsKey(string.Join(",", cand.Where((_, i) => i != skip)))) return false;
        return true;
    }

    private static int Pop(ulong[] b)
    {
        var c = 0;
        foreach (var w in b) c += System.Numerics.BitOperations.PopCount(w);
        return c;
    }
}
