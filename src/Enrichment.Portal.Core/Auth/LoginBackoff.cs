using System.Collections.Concurrent;

namespace Enrichment.Portal.Core.Auth;

/// <summary>
/// Failed sign-ins counted per (client address, user name), with exponential back-off: the first
/// <see cref="FreeAttempts"/> failures cost nothing, then each further attempt must wait <see cref="FirstDelay"/>, doubling
/// up to <see cref="MaxDelay"/>. The answer is the same whether the name exists or not (so it reveals no user names), and a
/// stranger's failures from another address never keep the real user out (there is no account-wide lockout). A success
/// or <see cref="Forget"/> after an hour without failures clears the count. Held in memory per process.
/// <para>
/// On top of that, failures are counted per address over all names: after <c>addressLimit</c> failures within
/// <c>addressWindow</c> (default 30 in 15 minutes), every further attempt from that address waits until the oldest of
/// them leaves the window, whatever the name, so one address cannot walk through a list of names. A success does not
/// clear the address's failures (an attacker's own account would otherwise reset them), and other addresses are unaffected.
/// </para>
/// </summary>
public sealed class LoginBackoff(TimeProvider clock, int addressLimit = LoginBackoff.DefaultAddressLimit, TimeSpan? addressWindow = null)
{
    public const int DefaultAddressLimit = 30;
    public static readonly TimeSpan DefaultAddressWindow = TimeSpan.FromMinutes(15);
    private readonly int addressLimit = Math.Max(1, addressLimit);
    private readonly TimeSpan addressWindow = addressWindow is { Ticks: > 0 } w ? w : DefaultAddressWindow;
    /// <summary>Per address, the times of its failures within the window (oldest first; at most the limit kept).</summary>
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> byAddress = new();

    public const int FreeAttempts = 5;
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Forget = TimeSpan.FromHours(1);
    private const int MaxEntries = 100_000;

    private sealed record Entry(int Failures, DateTimeOffset LastFailure);
    private readonly ConcurrentDictionary<(string Address, string Name), Entry> entries = new();

    private static (string, string) Key(string address, string userName) => (address, userName.Trim().ToLowerInvariant());

    /// <summary>How long this address must wait before trying this name again (zero: now): the longer of the per-name and per-address waits.</summary>
    public TimeSpan RetryAfter(string address, string userName)
    {
        var forAddress = AddressRetryAfter(address);
        var forName = NameRetryAfter(address, userName);
        return forAddress > forName ? forAddress : forName;
    }

    /// <summary>How long this address must wait before any sign-in (zero: now), from its failures over all names.</summary>
    public TimeSpan AddressRetryAfter(string address)
    {
        if (!byAddress.TryGetValue(address, out var q)) return TimeSpan.Zero;
        var now = clock.GetUtcNow();
        lock (q)
        {
            while (q.Count > 0 && now - q.Peek() >= addressWindow) q.Dequeue();
            if (q.Count == 0) { byAddress.TryRemove(new KeyValuePair<string, Queue<DateTimeOffset>>(address, q)); return TimeSpan.Zero; }
            return q.Count >= addressLimit ? q.Peek() + addressWindow - now : TimeSpan.Zero;
        }
    }

    private TimeSpan NameRetryAfter(string address, string userName)
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
        if (byAddress.Count > MaxEntries)
            foreach (var (a, old) in byAddress)
                lock (old) if (old.Count == 0 || now - old.Peek() >= addressWindow) byAddress.TryRemove(a, out _);
        var q = byAddress.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
        lock (q)
        {
            while (q.Count > 0 && (now - q.Peek() >= addressWindow || q.Count >= addressLimit)) q.Dequeue();
            q.Enqueue(now);
        }
    }

    /// <summary>Clears the failures of this name from this address (not the address's count over all names).</summary>
    public void Succeeded(string address, string userName) => entries.TryRemove(Key(address, userName), out _);

    /// <summary>The message for an address over its limit of failures across names.</summary>
    public static string AddressMessage(TimeSpan wait) =>
        $"Too many failed sign-ins from your address. Try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} seconds.";

    /// <summary>The one message for a refused attempt, known name or not.</summary>
    public static string Message(TimeSpan wait) =>
        $"Too many failed sign-ins for this user name from your address. Try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} seconds.";
}
