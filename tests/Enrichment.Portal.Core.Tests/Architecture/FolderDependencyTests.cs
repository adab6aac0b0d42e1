using System.Text.RegularExpressions;

namespace Enrichment.Portal.Core.Tests.Architecture;

/// <summary>
/// Guards the shape of Core (issue #14): the top-level folders import each other one way only (no loops), and the storage
/// folders import no feature. The same rules as <c>scripts/folder-deps.sh</c>, which prints the whole graph.
/// A folder X imports Y when a file under X has <c>using Enrichment.Portal.Core.Y</c>, a fully-qualified
/// <c>Enrichment.Portal.Core.Y.</c>, or names <c>Y.Type</c> for a type declared under Y. Comments and strings do not count.
/// </summary>
public sealed partial class FolderDependencyTests
{
    private const string RootNamespace = "Enrichment.Portal.Core";

    /// <summary>Folders that store data for everyone: they may not depend on the features that use them.</summary>
    private static readonly string[] Storage = ["Audit", "Catalog", "Lake", "ProfileStore", "Sandboxes"];
    private static readonly string[] Features =
        ["Audiences", "Exploration", "Guardrails", "Identity", "Ingestion", "Insights", "Models", "Recipes", "Profiles", "Query", "Scoring"];

    [Fact]
    public void Core_folders_import_each_other_without_loops()
    {
        var graph = ImportGraph(CoreFolder());
        Assert.True(graph.Count >= 10, "the import graph of Core was not read");
        var loops = Cycles(graph);
        Assert.True(loops.Count == 0, "Folder import loops in Core: " + string.Join("; ", loops.Select(l => "{" + string.Join(", ", l) + "}")) +
            ". Run scripts/folder-deps.sh --why to see the files behind each import.");
    }

    [Fact]
    public void Storage_folders_import_no_feature()
    {
        var graph = ImportGraph(CoreFolder());
        var wrong = Storage.SelectMany(s => graph.GetValueOrDefault(s, []).Where(t => Features.Contains(t)).Select(t => $"{s} -> {t}")).ToList();
        Assert.True(wrong.Count == 0, "Storage folders import features: " + string.Join(", ", wrong));
    }

    [Fact]
    public void The_walk_from_upload_to_profile_store_stays_in_ingestion_identity_profiles_and_storage()
    {
        var graph = ImportGraph(CoreFolder());
        Assert.Contains("Identity", graph["Ingestion"]);
        Assert.Contains("ProfileStore", graph["Identity"]);
        Assert.DoesNotContain("Profiles", graph["Ingestion"]);
        Assert.DoesNotContain("Profiles", graph["Identity"]);
    }

    [Fact]
    public void The_cycle_finder_finds_a_loop()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = ["A"],
        };
        var loops = Cycles(graph);
        Assert.Equal(["A", "B", "C"], Assert.Single(loops));
        Assert.Empty(Cycles(new Dictionary<string, HashSet<string>> { ["A"] = ["B"], ["B"] = [] }));
    }

    private static string CoreFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Enrichment.Portal.sln")))
                return Path.Combine(dir.FullName, "src", RootNamespace);
        throw new InvalidOperationException("The repository root (Enrichment.Portal.sln) was not found above " + AppContext.BaseDirectory);
    }

    internal static Dictionary<string, HashSet<string>> ImportGraph(string core)
    {
        var folders = Directory.EnumerateDirectories(core).Select(Path.GetFileName).Where(d => d is not ("obj" or "bin" or "Properties")).Cast<string>().ToHashSet();
        var files = new List<(string Folder, string Text)>();
        var declared = new Dictionary<string, HashSet<string>>();
        foreach (var path in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(core, path).Split(Path.DirectorySeparatorChar);
            if (rel.Any(p => p is "obj" or "bin" or "Migrations")) continue;
            var folder = rel.Length > 1 ? rel[0] : "(root)";
            var text = Strings().Replace(BlockComments().Replace(LineComments().Replace(File.ReadAllText(path), ""), ""), "\"\"");
            files.Add((folder, text));
            var set = declared.TryGetValue(folder, out var d) ? d : declared[folder] = [];
            foreach (Match m in Declarations().Matches(text)) set.Add(m.Groups[1].Value);
        }
        var qualified = new Regex(@"\b" + Regex.Escape(RootNamespace) + @"\.([A-Za-z_]\w*)");
        var shortName = new Regex(@"(?<![\w.])(" + string.Join("|", folders.Select(Regex.Escape)) + @")\.([A-Z]\w*)");
        var graph = folders.ToDictionary(f => f, _ => new HashSet<string>());
        foreach (var (folder, text) in files)
        {
            if (!graph.TryGetValue(folder, out var edges)) continue; // the root folder may import anything
            foreach (Match m in qualified.Matches(text))
                if (folders.Contains(m.Groups[1].Value) && m.Groups[1].Value != folder) edges.Add(m.Groups[1].Value);
            foreach (Match m in shortName.Matches(text))
                if (m.Groups[1].Value != folder && declared.GetValueOrDefault(m.Groups[1].Value)?.Contains(m.Groups[2].Value) == true)
                    edges.Add(m.Groups[1].Value);
        }
        return graph;
    }

    /// <summary>Strongly connected groups of more than one folder (Tarjan), each sorted.</summary>
    internal static List<List<string>> Cycles(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        var next = 0;
        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph.GetValueOrDefault(v, []))
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var group = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); group.Add(x); } while (x != v);
            if (group.Count > 1) result.Add([.. group.Order(StringComparer.Ordinal)]);
        }
        foreach (var v in graph.Keys.Order(StringComparer.Ordinal))
            if (!index.ContainsKey(v)) Visit(v);
        return result;
    }

    [GeneratedRegex(@"//[^\n]*")] private static partial Regex LineComments();
    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)] private static partial Regex BlockComments();
    [GeneratedRegex(@"""(?:[^""\\\n]|\\.)*""")] private static partial Regex Strings();
    [GeneratedRegex(@"\b(?:class|record|struct|interface|enum)\s+(?:struct\s+|class\s+)?([A-Z]\w*)")] private static partial Regex Declarations();
}
