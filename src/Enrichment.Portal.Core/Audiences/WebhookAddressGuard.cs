using System.Net;
using System.Net.Sockets;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>A webhook address the portal will not connect to (SSRF guard); not retried.</summary>
public sealed class WebhookAddressRefusedException(string message) : Exception(message);

/// <summary>
/// Server-side request forgery guard of webhook destinations. Refused always: addresses no webhook lives at and that
/// reach the host's own services or a cloud's metadata endpoint — unspecified (0.0.0.0/8, ::), link-local (169.254.0.0/16,
/// fe80::/10: the metadata endpoint 169.254.169.254), multicast, broadcast and reserved (240.0.0.0/4), and the IPv6
/// metadata address fd00:ec2::254. Loopback (127.0.0.0/8, ::1, <c>localhost</c>) and private networks (10/8, 172.16/12,
/// 192.168/16, 100.64/10, 198.18/15, fc00::/7) only with <c>Webhooks:AllowPrivateNetworks</c> (default false).
/// The URL is checked when a destination is saved (literal addresses, <c>localhost</c>) and every connection is checked
/// after DNS resolution (<see cref="ConnectAsync"/>), so a name that resolves — or is re-pointed — to a refused address fails.
/// </summary>
public static class WebhookAddressGuard
{
    private static readonly IPAddress AwsIpv6Metadata = IPAddress.Parse("fd00:ec2::254");

    /// <summary>Null when the portal may connect to the address, else why not.</summary>
    public static string? Refusal(IPAddress address, bool allowPrivate)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            if (b[0] == 0) return $"{address} is an unspecified address";
            if (b[0] == 169 && b[1] == 254) return $"{address} is link-local (cloud metadata endpoints live there)";
            if (b[0] >= 224) return $"{address} is a multicast, broadcast or reserved address";
            var priv = b[0] == 127 || b[0] == 10 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)
                       || (b[0] == 100 && b[1] is >= 64 and <= 127) || (b[0] == 198 && b[1] is 18 or 19);
            return priv && !allowPrivate ? $"{address} is a loopback or private-network address (allowed only with Webhooks:AllowPrivateNetworks)" : null;
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)) return $"{address} is an unspecified address";
            if (address.Equals(AwsIpv6Metadata)) return $"{address} is a cloud metadata endpoint";
            if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal) return $"{address} is link-local";
            if (address.IsIPv6Multicast) return $"{address} is a multicast address";
            var first = address.GetAddressBytes()[0];
            var priv = IPAddress.IsLoopback(address) || (first & 0xFE) == 0xFC;
            return priv && !allowPrivate ? $"{address} is a loopback or private-network address (allowed only with Webhooks:AllowPrivateNetworks)" : null;
        }
        return $"{address} is not an IP address";
    }

    /// <summary>What is wrong with a webhook URL before any DNS look-up (scheme, credentials, a literal refused address, localhost).</summary>
    public static string? UrlRefusal(string target, bool allowPrivate)
    {
        const string shape = "target is the webhook's URL: an absolute http:// or https:// URL without credentials (at most 2,000 characters).";
        if (target.Length > 2000 || !Uri.TryCreate(target, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")
            || string.IsNullOrEmpty(url.Host) || !string.IsNullOrEmpty(url.UserInfo)) return shape;
        if (url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(url.DnsSafeHost, out var ip))
            return Refusal(ip, allowPrivate) is { } why ? $"The portal does not send to {url.Host}: {why}." : null;
        var host = url.DnsSafeHost.TrimEnd('.');
        if (!allowPrivate && (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)))
            return $"The portal does not send to {url.Host}: loopback is allowed only with Webhooks:AllowPrivateNetworks.";
        return null;
    }

    /// <summary>
    /// The webhook client's connect callback: resolves the host, refuses the connection when any resolved address is refused
    /// (<see cref="WebhookAddressRefusedException"/>), else connects to the first address that answers.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowPrivate, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        if (addresses.Length == 0) throw new HttpRequestException($"{endpoint.Host} has no address.");
        foreach (var a in addresses)
            if (Refusal(a, allowPrivate) is { } why) throw new WebhookAddressRefusedException($"The portal does not send to {endpoint.Host}: {why}.");
        Exception? last = null;
        foreach (var a in addresses)
        {
            var socket = new Socket(a.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(a, endpoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e) { socket.Dispose(); last = e; }
        }
        throw new HttpRequestException($"Could not connect to {endpoint.Host}:{endpoint.Port}: {last?.Message}", last);
    }
}
