using System.Runtime.InteropServices;

namespace Enrichment.Portal.Web.Hosting;

/// <summary>
/// The data directory holds the catalog (password hashes, key hashes, profiles), raw uploads and the lake: only the
/// service's own user may read it. The process umask is set to 077 at start, so every file and folder the portal, SQLite
/// and DuckDB create is 0600 / 0700; the data directory itself (and a catalog made by an older version) are tightened
/// at start too.
/// </summary>
public static class OwnerOnlyFiles
{
#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code for this one call
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
#pragma warning restore SYSLIB1054

    /// <summary>Sets the process umask to 077 (not on Windows, where ACLs of the user's folder apply).</summary>
    public static void RestrictNewFiles()
    {
        if (OperatingSystem.IsWindows()) return;
        try { Umask(0b000_111_111); } catch (DllNotFoundException) { } catch (EntryPointNotFoundException) { }
    }

    /// <summary>Creates the folder as 0700 (or tightens it), and makes the catalog files in it 0600.</summary>
    public static void Secure(string dataDirectory)
    {
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(dataDirectory); return; }
        const UnixFileMode dir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode file = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Directory.CreateDirectory(dataDirectory, dir);
        File.SetUnixFileMode(dataDirectory, dir);
        foreach (var f in Directory.EnumerateFiles(dataDirectory, "catalog.db*").Append(Path.Combine(dataDirectory, PortalInitializer.CredentialsFile)))
            if (File.Exists(f)) File.SetUnixFileMode(f, file);
    }
}
