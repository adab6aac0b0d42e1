using System.Collections.Concurrent;

namespace Enrichment.Portal.Core.Auth;

/// <summary>
/// Failed sign-ins counted per (client address, user name), with exponential back-off: the first
/// <see cref="FreeAttempts"/> failures cost nothing, then each further attempt must wait <see cref="FirstDelay"/>, doubling
/// up to <see cref="MaxDelay"/>. The answer is the same whether the name exists or not (so it reveals no user names), and a
/// stranger's failures from another address never keep the real user out (there is no account-wide lockout). A success
/// or <see cref="Forget"/> after an hour without failures clears the count. Held in memory per process.
/// </summary>
public sealed class LoginBackoff(TimeProvider clock)
{
    public const int FreeAttempts = 5;
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Forget = TimeSpan.FromHours(1);
    private const int MaxEntries = 100_000;

    private sealed record Entry(int Failures, DateTimeOffset LastFailure);
    private readonly ConcurrentDictionary<(string Address, string Name), Entry> entries = new();

    private static (string, string) Key(string address, string userName) => (address, userName.Trim().ToLowerInvariant());

    /// <summary>How long this address must wait before trying this name again (zero: now).</summary>
    public TimeSpan RetryAfter(string address, string userName)
    {
        if (!entries.TryGetValue(Key(address, userName), out var e)) return TimeSpan.Zero;
        var now = clock.GetUtcNow();
        if (now - e.LastFailure > Forget) { entries.TryRemove(Key(address, userName), out _); return TimeSpan.Zero; }
        if (e.Failures < FreeAttempts) return TimeSpan.Zero;
        var wait = DelayAfter(e.Failures) - (now - e.LastFailure);
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    /// <summary>The wait after <paramref name="failures"/> failures in a row.</summary>
    public static TimeSpan DelayAfter(int failures) =>
        failures < FreeAttempts ? TimeSpan.Zero
        : TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks * (1L << Math.Min(20, failures - FreeAttempts))));

    public void Failed(string address, string userName)
    {
        var now = clock.GetUtcNow();
        if (entries.Count > MaxEntries)
            foreach (var (k, v) in entries)
                if (now - v.LastFailure > DelayAfter(v.Failures)) entries.TryRemove(k, out _);
        entries.AddOrUpdate(Key(address, userName), _ => new Entry(1, now),
            (_, e) => new Entry(now - e.LastFailure > Forget ? 1 : e.Failures + 1, now));
    }

    public void Succeeded(string address, string userName) => entries.TryRemove(Key(address, userName), out _);

    /// <summary>The one message for a refused attempt, known name or not.</summary>
    public static string Message(TimeSpan wait) =>
        $"Too many failed sign-ins for this user name from your address. Try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} seconds.";
}
