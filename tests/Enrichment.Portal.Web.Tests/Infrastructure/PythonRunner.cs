using System.Diagnostics;
using System.Text;

namespace Enrichment.Portal.Tests;

/// <summary>
/// Debian's Python (<c>/usr/bin/python3</c>: the one that sees the Debian packages python3-pandas, python3-sklearn,
/// python3-nbclient), for the tests of the Python client and of the generated notebooks. .ci/run installs them.
/// </summary>
public static class PythonRunner
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Null when Python and every module are there; otherwise why not (for <c>Assert.Skip</c>).</summary>
    public static string? Missing(params string[] modules)
    {
        if (!File.Exists(Python)) return $"{Python} is not installed";
        foreach (var m in modules)
        {
            var (code, _) = Run(["-c", "import " + m], null, TimeSpan.FromMinutes(1));
            if (code != 0) return $"the Python module '{m}' is not installed for {Python} (Debian: apt-get install python3-{m.Replace('_', '-')})";
        }
        return null;
    }

    /// <summary>Runs <c>/usr/bin/python3 args...</c>; returns the exit code and stdout + stderr.</summary>
    public static (int ExitCode, string Output) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env, TimeSpan timeout, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        // A pyenv or virtualenv on PATH must not leak into Debian's Python.
        psi.Environment.Remove("PYTHONPATH");
        psi.Environment.Remove("PYTHONHOME");
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        psi.Environment["PYDEVD_DISABLE_FILE_VALIDATION"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var output = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, $"timed out after {timeout}\n{output}");
        }
        p.WaitForExit();
        lock (output) return (p.ExitCode, output.ToString());
    }
}
