using System.Formats.Tar;
using System.IO.Compression;

namespace Enrichment.Portal.Core.Tests;

/// <summary>Finds the data the tests run on: shipped copies under <c>tests/data</c>, and <c>../shared/data</c> when present.</summary>
public static class TestData
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Enrichment.Portal.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Enrichment.Portal.sln not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>A file shipped in <c>tests/data</c> (e.g. <c>bank_marketing/bank-full.csv.gz</c>).</summary>
    public static string Shipped(string relative)
    {
        var path = Path.Combine(RepoRoot, "tests", "data", relative);
        if (!File.Exists(path)) throw new FileNotFoundException("Shipped test data missing", path);
        return path;
    }

    /// <summary>A file of <c>../shared/data</c>, or null when the shared folder is absent (fresh clone).</summary>
    public static string? Shared(string relative)
    {
        var path = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data", relative));
        return File.Exists(path) || Directory.Exists(path) ? path : null;
    }

    /// <summary>A shipped <c>.gz</c> file decompressed once into a temp folder; returns the plain file's path.</summary>
    public static string Decompressed(string relativeGz)
    {
        var source = Shipped(relativeGz);
        var target = Path.Combine(Path.GetTempPath(), "ep-testdata", relativeGz[..^3]);
        lock (Root)
        {
            if (File.Exists(target)) return target;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var tmp = target + "." + Guid.NewGuid().ToString("N") + ".tmp";
            using (var input = new GZipStream(File.OpenRead(source), CompressionMode.Decompress))
            using (var output = File.Create(tmp))
                input.CopyTo(output);
            File.Move(tmp, target, overwrite: true);
            return target;
        }
    }

    /// <summary>The XDM <c>components</c> tree, unpacked once from the shipped tarball.</summary>
    public static string XdmComponents()
    {
        var target = Path.Combine(Path.GetTempPath(), "ep-testdata", "xdm_examples");
        lock (Root)
        {
            var done = Path.Combine(target, ".unpacked");
            if (!File.Exists(done))
            {
                Directory.CreateDirectory(target);
                using var gz = new GZipStream(File.OpenRead(Shipped("xdm_examples/components.tar.gz")), CompressionMode.Decompress);
                TarFile.ExtractToDirectory(gz, target, overwriteFiles: true);
                File.WriteAllText(done, "ok");
            }
            return Path.Combine(target, "components");
        }
    }

    /// <summary>A fresh temp folder for one test; deleted by the caller's <c>using</c>.</summary>
    public static TempDir NewTempDir() => new();

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ep-test-" + Guid.NewGuid().ToString("N"));
        public TempDir() => Directory.CreateDirectory(Path);
        public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
    }
}
