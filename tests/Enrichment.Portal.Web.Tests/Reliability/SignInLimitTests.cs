using System.Net;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Tests;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// The per-address sign-in limit through the real login form (issue #20): one address walking through many user names is
/// stopped after <see cref="LoginBackoff.DefaultAddressLimit"/> failures (429, Retry-After, a clear message), whatever the
/// name; another address — the real admin — signs in meanwhile; a success from an address does not clear its failures.
/// Loopback is 127.0.0.0/8: each client binds its side of the socket to its own 127.0.0.x, so the portal sees other addresses.
/// (The API has no sign-in of its own: it takes API keys; password changes need a signed-in user and the current password.)
/// </summary>
public sealed class SignInLimitTests(PortalHost host)
{
    private const string Generic = "Unknown user name or wrong password";
    private const string AddressLimited = "Too many failed sign-ins from your address";

    private HttpClient From(string address) => CookieSession.NewClient(host.BaseUri, IPAddress.Parse(address));

    [Fact]
    public async Task Many_names_from_one_address_are_limited_and_another_address_is_not()
    {
        using var attacker = From("127.0.0.22");
        for (var i = 0; i < LoginBackoff.DefaultAddressLimit; i++)
        {
            // Each name fails once only: the per-name back-off never starts; the per-address count does.
            var r = await CookieSession.PostLoginAsync(attacker, $"guess{i}", "wrong-password-" + i);
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"attempt {i + 1}: {(int)r.StatusCode}");
            Assert.Contains(Generic, await r.Content.ReadAsStringAsync());
        }
        foreach (var name in new[] { "another-name", "admin" })
        {
            var limited = await CookieSession.PostLoginAsync(attacker, name, name == "admin" ? "still-wrong" : "x-wrong-password");
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Contains(AddressLimited, await limited.Content.ReadAsStringAsync());
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(10), limited.Headers.RetryAfter?.ToString());
        }
        // Even the right password is refused from that address (it cannot be told apart from a guess) ...
        var right = await CookieSession.PostLoginAsync(attacker, "admin", PortalHost.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        // ... but the real admin at another address is not kept out.
        using var owner = From("127.0.0.23");
        var signedIn = await CookieSession.PostLoginAsync(owner, "admin", PortalHost.AdminPassword);
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task A_success_from_an_address_does_not_clear_its_failures_over_other_names()
    {
        using var client = From("127.0.0.24");
        for (var i = 0; i < LoginBackoff.DefaultAddressLimit - 1; i++)
            Assert.Equal(HttpStatusCode.OK, (await CookieSession.PostLoginAsync(client, $"probe{i}", "wrong-password")).StatusCode);
        // The attacker's own valid account signs in (allowed: under the limit) ...
        Assert.Equal(HttpStatusCode.Found, (await CookieSession.PostLoginAsync(client, "admin", PortalHost.AdminPassword)).StatusCode);
        // ... and one more failure reaches the limit: the success did not reset the count.
        using var fresh = From("127.0.0.24");
        Assert.Equal(HttpStatusCode.OK, (await CookieSession.PostLoginAsync(fresh, "probe-last", "wrong-password")).StatusCode);
        var limited = await CookieSession.PostLoginAsync(fresh, "probe-next", "wrong-password");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains(AddressLimited, await limited.Content.ReadAsStringAsync());
        Assert.NotNull(limited.Headers.RetryAfter);
    }
}
