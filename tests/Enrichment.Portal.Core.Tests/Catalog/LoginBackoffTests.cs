using Enrichment.Portal.Core.Auth;

namespace Enrichment.Portal.Core.Tests.Catalog;

public sealed class LoginBackoffTests
{
    [Fact]
    public void Failures_back_off_per_address_and_name_exponentially_and_not_for_other_addresses()
    {
        var clock = new ManualClock();
        var backoff = new LoginBackoff(clock);
        for (var i = 0; i < LoginBackoff.FreeAttempts - 1; i++) backoff.Failed("10.0.0.9", "admin");
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("10.0.0.9", "admin"));
        backoff.Failed("10.0.0.9", "Admin ");
        Assert.Equal(LoginBackoff.FirstDelay, backoff.RetryAfter("10.0.0.9", "admin"));
        // The stranger's failures do not reach the real user at another address, nor another name.
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("127.0.0.1", "admin"));
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("10.0.0.9", "jane"));
        clock.Advance(LoginBackoff.FirstDelay);
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("10.0.0.9", "admin"));
        backoff.Failed("10.0.0.9", "admin");
        Assert.Equal(2 * LoginBackoff.FirstDelay, backoff.RetryAfter("10.0.0.9", "admin"));
        for (var i = 0; i < 30; i++) backoff.Failed("10.0.0.9", "admin");
        Assert.Equal(LoginBackoff.MaxDelay, backoff.RetryAfter("10.0.0.9", "admin"));
        backoff.Succeeded("10.0.0.9", "admin");
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("10.0.0.9", "admin"));
    }

    [Fact]
    public void Unknown_and_known_names_get_the_same_message() =>
        Assert.Equal(LoginBackoff.Message(TimeSpan.FromSeconds(30)), LoginBackoff.Message(TimeSpan.FromSeconds(29.5)));
}

internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset now = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => now;
    public void Advance(TimeSpan by) => now += by;
}
