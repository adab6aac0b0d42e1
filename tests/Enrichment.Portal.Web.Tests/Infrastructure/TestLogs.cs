using System.Collections.Concurrent;
using System.Text;
using Enrichment.Portal.Core.Tests;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Tests;

/// <summary>
/// Where the test portals write their logs: <c>artifacts/logs/run-&lt;time&gt;-&lt;pid&gt;/</c> under the repository (one folder per
/// test process), so that a test can grep everything the suite's portals logged (e.g. for secrets) and CI can keep them.
/// </summary>
public static class TestLogs
{
    private static readonly Lazy<string> Run = new(() =>
    {
        var dir = Path.Combine(TestData.RepoRoot, "artifacts", "logs", $"run-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        return dir;
    });

    /// <summary>This test process's log folder.</summary>
    public static string RunDirectory => Run.Value;

    /// <summary>A new file name in the run folder (<c>name-N.log</c>).</summary>
    public static string NewFile(string name)
    {
        for (var i = 1; ; i++)
        {
            var path = Path.Combine(RunDirectory, $"{name}-{i}.log");
            try { using (new FileStream(path, FileMode.CreateNew)) { } return path; }
            catch (IOException) when (File.Exists(path)) { }
        }
    }
}

/// <summary>Writes every log entry (category, level, message, exception) of an in-process host to one file.</summary>
public sealed class FileLoggerProvider(string path) : ILoggerProvider
{
    private readonly StreamWriter writer = new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
    private readonly ConcurrentDictionary<string, Logger> loggers = new();
    private bool disposed;
    public string Path => path;

    public ILogger CreateLogger(string categoryName) => loggers.GetOrAdd(categoryName, c => new Logger(this, c));

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        lock (writer)
        {
            if (disposed) return;
            writer.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {level} {category}: {message}\n");
            if (exception is not null) writer.Write(exception + "\n");
        }
    }

    public void Dispose()
    {
        lock (writer) { disposed = true; writer.Dispose(); }
    }

    private sealed class Logger(FileLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner.Write(category, logLevel, formatter(state, exception), exception);
        }
    }
}
