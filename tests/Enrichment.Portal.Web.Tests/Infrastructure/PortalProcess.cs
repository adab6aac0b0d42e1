using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Enrichment.Portal.Core.Tests;

namespace Enrichment.Portal.Tests;

/// <summary>
/// The portal as a separate operating-system process (<c>dotnet &lt;built Web dll&gt;</c>), for tests that stop, kill and
/// restart it, or start several of them (a portal and <c>--worker</c> processes on one PostgreSQL). Each has its own free
/// loopback port; settings are passed as environment variables (<c>Database:Provider</c> becomes <c>Database__Provider</c>).
/// </summary>
public sealed class PortalProcess : IDisposable
{
    private Process? _process;
    private readonly StringBuilder _output = new();
    private readonly Dictionary<string, string?> _settings;
    private readonly string[] _args;

    public string DataDirectory { get; }
    /// <summary>A name for messages (e.g. <c>worker-1</c>).</summary>
    public string Name { get; }
    public int Port { get; } = FreePort();
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");
    /// <summary>The file the process's output (its console log) is copied to, under <see cref="TestLogs"/>.</summary>
    public string LogFile { get; }
    private readonly StreamWriter _log;
    /// <summary>What the process printed so far (standard output and error).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }
    public int? ProcessId => _process?.Id;
    public bool HasExited => _process is null || _process.HasExited;

    /// <param name="dataDirectory">The portal's data directory (catalog, lake, uploads); several processes may share one.</param>
    /// <param name="settings">Configuration keys and values (e.g. <c>["Database:Provider"] = "Postgres"</c>); a null value removes a default.</param>
    /// <param name="args">Extra command-line arguments (e.g. <c>--worker</c>).</param>
    /// <param name="name">A name for messages.</param>
    public PortalProcess(string dataDirectory, IReadOnlyDictionary<string, string?>? settings = null, string[]? args = null, string? name = null)
    {
        DataDirectory = dataDirectory;
        _args = args ?? [];
        Name = name ?? (_args.Contains("--worker") ? "worker" : "portal");
        LogFile = TestLogs.NewFile("process-" + string.Concat(Name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_')));
        _log = new StreamWriter(new FileStream(LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        _settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Enrichment:DataDirectory"] = dataDirectory,
            ["Auth:BootstrapApiKey"] = PortalHost.AdminKey,
            ["Auth:AdminPassword"] = PortalHost.AdminPassword,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) _settings[k] = v;
    }

    /// <summary>A setting of this process (configuration key with ':'; passed as an environment variable), before it starts.</summary>
    public PortalProcess With(string key, string? value) { _settings[key] = value; return this; }

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string OutputSoFar() => Output;

    /// <summary>The built <c>Enrichment.Portal.Web.dll</c> of the configuration the tests run in.</summary>
    public static string WebDll()
    {
        var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var dll = Path.Combine(TestData.RepoRoot, "src", "Enrichment.Portal.Web", "bin", config, "net10.0", "Enrichment.Portal.Web.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the web project first", dll);
    }

    /// <summary>Starts the process and waits until <c>/health</c> answers 200 (a portal and a worker both serve it).</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        if (_process is { HasExited: false }) throw new InvalidOperationException($"{Name} is running already.");
        var info = new ProcessStartInfo("dotnet", [WebDll(), "--urls", BaseUri.ToString(), .. _args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.Combine(TestData.RepoRoot, "src", "Enrichment.Portal.Web"),
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (k, v) in _settings)
        {
            var env = k.Replace(":", "__", StringComparison.Ordinal);
            if (v is null) info.Environment.Remove(env); else info.Environment[env] = v;
        }
        _process = Process.Start(info)!;
        var pid = _process.Id;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited) break;
            try { if ((await client.GetAsync("/health")).IsSuccessStatusCode) return; }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        var exited = _process.HasExited ? $"exited with code {_process.ExitCode}" : "did not answer /health in time";
        throw new InvalidOperationException($"{Name} (pid {pid}) {exited}: {Output}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            try { _log.WriteLine(line); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>Stops the process: gracefully (SIGTERM, as a service manager does) or by killing it (SIGKILL, a crash).</summary>
    public async Task StopAsync(bool kill)
    {
        if (_process is null || _process.HasExited) return;
        if (kill) _process.Kill(entireProcessTree: true);
        else Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
    }

    /// <summary><c>kill -9</c>: the process ends at once, in the middle of whatever it does.</summary>
    public Task KillAsync() => StopAsync(kill: true);

    /// <summary>An HTTP client for this process with the bootstrap admin key (or the given one).</summary>
    public HttpClient Api(string? apiKey = PortalHost.AdminKey)
    {
        var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromMinutes(5) };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public void Dispose()
    {
        try { if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process?.Dispose();
        lock (_output) _log.Dispose();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
