using Enrichment.Portal.Core.Auth;

namespace Enrichment.Portal.Core.Tests.Catalog;

public sealed class LoginBackoffTests
{
    [Fact]
    public void Failures_back_off_per_address_and_name_exponentially_and_not_for_other_addresses()
    {
        var clock = new ManualClock();
        var backoff = new LoginBackoff(clock, addressLimit: 1000); // the per-name back-off alone (the address limit: below)
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
    public void Failures_over_many_names_from_one_address_are_limited_and_other_addresses_are_not()
    {
        var clock = new ManualClock();
        var backoff = new LoginBackoff(clock, addressLimit: 10, addressWindow: TimeSpan.FromMinutes(15));
        // One address tries ten names once each: no name reaches its own back-off, the address reaches its limit.
        for (var i = 0; i < 9; i++) { backoff.Failed("10.0.0.9", $"user{i}"); clock.Advance(TimeSpan.FromSeconds(1)); }
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("10.0.0.9", "user99"));
        backoff.Failed("10.0.0.9", "user9");
        var wait = backoff.AddressRetryAfter("10.0.0.9");
        Assert.Equal(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(9), wait);
        Assert.Equal(wait, backoff.RetryAfter("10.0.0.9", "a-new-name"));
        Assert.Equal(wait, backoff.RetryAfter("10.0.0.9", "admin"));
        // The real user at another address is not kept out.
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("10.0.0.10", "admin"));
        Assert.Equal(TimeSpan.Zero, backoff.AddressRetryAfter("10.0.0.10"));
        // A success of one name from the address (the attacker's own account) clears that name only, not the address's count.
        backoff.Succeeded("10.0.0.9", "user3");
        Assert.Equal(wait, backoff.RetryAfter("10.0.0.9", "user3"));
        // Once the oldest failure leaves the window, one more attempt is allowed; a failure there closes it again.
        clock.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(9));
        Assert.Equal(TimeSpan.Zero, backoff.AddressRetryAfter("10.0.0.9"));
        backoff.Failed("10.0.0.9", "user10");
        Assert.True(backoff.AddressRetryAfter("10.0.0.9") > TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter("10.0.0.9", "user0"));
    }

    [Fact]
    public void The_default_address_limit_leaves_room_for_the_per_name_back_off()
    {
        var clock = new ManualClock();
        var backoff = new LoginBackoff(clock);
        for (var i = 0; i < LoginBackoff.DefaultAddressLimit - 1; i++) backoff.Failed("10.0.0.9", $"user{i}");
        Assert.Equal(TimeSpan.Zero, backoff.AddressRetryAfter("10.0.0.9"));
        backoff.Failed("10.0.0.9", "last");
        Assert.Equal(LoginBackoff.DefaultAddressWindow, backoff.AddressRetryAfter("10.0.0.9"));
        Assert.NotEqual(LoginBackoff.Message(TimeSpan.FromSeconds(5)), LoginBackoff.AddressMessage(TimeSpan.FromSeconds(5)));
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
