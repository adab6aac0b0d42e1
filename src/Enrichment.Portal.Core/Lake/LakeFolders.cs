namespace Enrichment.Portal.Core.Lake;

/// <summary>
/// Atomic batch folders. A batch is written into <c>&lt;parent&gt;/_tmp/&lt;name&gt;-&lt;guid&gt;</c> (next to, not inside, the
/// final folder, so a glob like <c>&lt;dataset&gt;/*/part-*.parquet</c> never sees it) and published with one directory rename.
/// A published folder holds <c>_SUCCESS</c> (or <c>_FAILED</c>); readers take part files only from folders with <c>_SUCCESS</c>.
/// </summary>
public static class LakeFolders
{
    /// <summary>Marker of a complete, accepted batch folder.</summary>
    public const string SuccessMarker = "_SUCCESS";
    /// <summary>Marker of a failed batch folder (holds the reason; only rejected rows are kept).</summary>
    public const string FailedMarker = "_FAILED";
    /// <summary>The folder (under the parent of batch folders) that holds batches being written.</summary>
    public const string TempFolderName = "_tmp";

    /// <summary>Deletes leftovers of earlier attempts of this folder (crashed or cancelled runs).</summary>
    public static void CleanLeftovers(string lakeFolder)
    {
        var (tmpRoot, name) = Split(lakeFolder);
        if (!Directory.Exists(tmpRoot)) return;
        foreach (var d in Directory.EnumerateDirectories(tmpRoot, name + "-*"))
            TryDelete(d);
    }

    /// <summary>Creates a fresh temp folder for writing <paramref name="lakeFolder"/>.</summary>
    public static string CreateTemp(string lakeFolder)
    {
        var (tmpRoot, name) = Split(lakeFolder);
        var dir = Path.Combine(tmpRoot, name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Publishes a written temp folder as <paramref name="lakeFolder"/>, replacing an earlier version (retry).</summary>
    public static void Publish(string tempFolder, string lakeFolder)
    {
        var full = Path.GetFullPath(lakeFolder);
        if (Directory.Exists(full))
        {
            var (tmpRoot, name) = Split(full);
            var old = Path.Combine(tmpRoot, name + "-old-" + Guid.NewGuid().ToString("N"));
            Directory.Move(full, old);
            Directory.Move(tempFolder, full);
            TryDelete(old);
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        Directory.Move(tempFolder, full);
    }

    /// <summary>Whether the folder is a complete, accepted batch.</summary>
    /// <summary>Takes a published batch folder out of what readers see (its <c>_SUCCESS</c> becomes <c>_FAILED</c>); no-op otherwise.</summary>
    public static void Uncommit(string lakeFolder)
    {
        var ok = Path.Combine(lakeFolder, SuccessMarker);
        if (File.Exists(ok)) File.Move(ok, Path.Combine(lakeFolder, FailedMarker), overwrite: true);
    }

    public static bool IsComplete(string lakeFolder) => File.Exists(Path.Combine(lakeFolder, SuccessMarker));

    /// <summary>Deletes a folder and everything in it; a folder that is gone or busy is left (best effort).</summary>
    public static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static (string TmpRoot, string Name) Split(string lakeFolder)
    {
        var full = Path.GetFullPath(lakeFolder.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException("The lake folder must not be a root folder.", nameof(lakeFolder));
        return (Path.Combine(parent, TempFolderName), Path.GetFileName(full));
    }
}
