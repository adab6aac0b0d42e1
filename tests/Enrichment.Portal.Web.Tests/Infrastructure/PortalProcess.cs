using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Enrichment.Portal.Core.Tests;

namespace Enrichment.Portal.Tests;

/// <summary>
/// The portal as a separate operating-system process (the built Web project), for tests that stop, kill and restart it.
/// </summary>
public sealed class PortalProcess : IDisposable
{
    private Process? _process;
    public string DataDirectory { get; }
    public int Port { get; } = FreePort();
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");
    public string Output { get; private set; } = "";
    private readonly System.Text.StringBuilder _output = new();
    private readonly Dictionary<string, string> _settings = new();

    public PortalProcess(string dataDirectory) => DataDirectory = dataDirectory;

    /// <summary>A setting of this process (configuration key with ':'; passed as an environment variable).</summary>
    public PortalProcess With(string key, string value) { _settings[key] = value; return this; }

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string OutputSoFar() { lock (_output) return _output.ToString(); }

    private static string WebDll()
    {
        var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var dll = Path.Combine(TestData.RepoRoot, "src", "Enrichment.Portal.Web", "bin", config, "net10.0", "Enrichment.Portal.Web.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the web project first", dll);
    }

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("dotnet", [WebDll(), "--urls", BaseUri.ToString()])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.Combine(TestData.RepoRoot, "src", "Enrichment.Portal.Web"),
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["Enrichment__DataDirectory"] = DataDirectory;
        info.Environment["Auth__BootstrapApiKey"] = PortalHost.AdminKey;
        info.Environment["Auth__AdminPassword"] = PortalHost.AdminPassword;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in _settings) info.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        _process = Process.Start(info)!;
        var output = _output;
        _process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited) break;
            try { if ((await client.GetAsync("/health")).IsSuccessStatusCode) return; }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        lock (output) Output = output.ToString();
        throw new InvalidOperationException("The portal did not start: " + Output);
    }

    /// <summary>Stops the process: gracefully (SIGTERM, as a service manager does) or by killing it (a crash).</summary>
    public async Task StopAsync(bool kill)
    {
        if (_process is null || _process.HasExited) return;
        if (kill) _process.Kill(entireProcessTree: true);
        else Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
    }

    public HttpClient Api() => new() { BaseAddress = BaseUri, DefaultRequestHeaders = { { "X-Api-Key", PortalHost.AdminKey } } };

    public void Dispose()
    {
        try { if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process?.Dispose();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
