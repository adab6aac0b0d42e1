using Enrichment.Portal.Core.ProfileStore;
using System.Data.Common;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Profiles;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Tests.Profiles;

/// <summary>
/// Two ingestions into one sandbox at once (a CRM file and a web-events file), each on its own connection, that meet
/// the same new people through their emails. The identity and profile stages of one sandbox are serialized per chunk
/// by <see cref="ProfileStoreLocks"/> (and, on PostgreSQL, a transaction-level advisory lock); the result must be
/// exactly what the two files give one after the other. PostgreSQL runs when <c>EP_TEST_POSTGRES</c> names a server.
/// <para>Without the locks: on PostgreSQL (read committed) both chunks see the email as new, both create a profile,
/// the second one's identity insert is dropped by <c>ON CONFLICT DO NOTHING</c> and its events / fragment stay on an
/// orphan profile. On SQLite the chunk transactions are <c>BEGIN IMMEDIATE</c>, so the file lock already serializes
/// them, but through busy-polling with a timeout (a long chunk of one batch could fail the other with "database is
/// locked"); the process lock makes it a plain queue.</para>
/// </summary>
public sealed class ConcurrentIngestionTests
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Sandbox = "sbx-race";
    private const int People = 400;
    private const int EventsPerPerson = 3;

    public static TheoryData<string> Providers => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Two_concurrent_ingestions_sharing_new_emails_give_one_profile_per_person(string provider)
    {
        await using var catalog = await TestCatalog.CreateAsync(provider, Sandbox);
        var locks = new ProfileStoreLocks(); // the process's one instance (a DI singleton in the portal)
        await using (var setup = catalog.Open()) await new MergePolicyService(setup).GetDefaultAsync(Sandbox, Ct);

        // Both files walk the same people in the same order, 6 people per chunk, so their chunks meet the same new
        // emails at the same moment; the events of a person sit in one chunk (a later chunk cannot heal a lost link).
        var crm = Enumerable.Range(0, People)
            .Select(i => (IReadOnlyDictionary<string, object?>)ProfileTestDb.R(("crmId", $"C-{i}"), ("email", $"Person.{i}@Example.com "), ("tier", i % 2 == 0 ? "gold" : "silver")))
            .ToList();
        var web = Enumerable.Range(0, People * EventsPerPerson)
            .Select(j => (IReadOnlyDictionary<string, object?>)ProfileTestDb.R(
                ("timestamp", T0.AddMinutes(j)), ("eventType", "page view"), ("cookieId", $"k-{j / EventsPerPerson}"),
                ("email", $"person.{j / EventsPerPerson}@example.com"), ("page", $"/p/{j}")))
            .ToList();

        // Each ingestion on its own context and connection, as two jobs (or a job and the streaming flusher) would be.
        await using var dbA = catalog.Open();
        await using var dbB = catalog.Open();
        using var start = new Barrier(2);
        var a = Task.Run(() =>
        {
            start.SignalAndWait(Ct);
            return new ProfileIngestor(dbA, new ProfileStoreOptions { ChunkSize = 6 }, locks)
                .ApplyRecordsAsync(new ProfileRecordBatch(Sandbox, "ds-crm", TestSchemas.Crm, crm, T0) { BatchId = "b-crm" }, Ct);
        }, Ct);
        var b = Task.Run(() =>
        {
            start.SignalAndWait(Ct);
            return new ProfileIngestor(dbB, new ProfileStoreOptions { ChunkSize = 6 * EventsPerPerson }, locks)
                .ApplyRecordsAsync(new ProfileRecordBatch(Sandbox, "ds-web", TestSchemas.Web, web, T0) { BatchId = "b-web" }, Ct);
        }, Ct);
        var results = await Task.WhenAll(a, b);
        Assert.Equal(People, results[0].Records);
        Assert.Equal(People * EventsPerPerson, results[1].Records);

        await using var db = catalog.Open();
        await db.Database.OpenConnectionAsync(Ct);
        var conn = db.Database.GetDbConnection();
        var profiles = (await Rows(conn, "SELECT id, identity_count FROM profiles")).ToDictionary(r => (string)r[0], r => Convert.ToInt32(r[1], System.Globalization.CultureInfo.InvariantCulture));
        var identities = await Rows(conn, "SELECT namespace, value, profile_id FROM profile_identities");
        var byIdentity = identities.ToDictionary(r => ((string)r[0], (string)r[1]), r => (string)r[2]);

        // One profile per person, holding that person's three identities; no orphan profile, right identity counts.
        Assert.Equal(People, profiles.Count);
        Assert.Equal(People * 3, identities.Count);
        Assert.All(identities, r => Assert.True(profiles.ContainsKey((string)r[2]), "identity of a missing profile"));
        foreach (var g in identities.GroupBy(r => (string)r[2])) Assert.Equal(g.Count(), profiles[g.Key]);
        for (var i = 0; i < People; i++)
        {
            var pid = byIdentity[("Email", $"person.{i}@example.com")];
            Assert.Equal(pid, byIdentity[("CRMID", $"C-{i}")]);
            Assert.Equal(pid, byIdentity[("CookieID", $"k-{i}")]);
        }

        // No lost links: every fragment, event and link points to the live profile of its person.
        var fragments = await Rows(conn, "SELECT record_key, profile_id FROM profile_fragments");
        Assert.Equal(People, fragments.Count);
        Assert.All(fragments, r => Assert.Equal(byIdentity[("CRMID", ((string)r[0]).Split('\u001f')[^1])], (string)r[1]));
        var events = await Rows(conn, "SELECT profile_id, fields FROM profile_events");
        Assert.Equal(People * EventsPerPerson, events.Count);
        Assert.All(events, r => Assert.Equal(byIdentity[("CookieID", JsonNode.Parse((string)r[1])!["cookieId"]!.GetValue<string>())], (string)r[0]));
        var links = await Rows(conn, "SELECT profile_id FROM profile_links");
        Assert.Equal(2 * People, links.Count);
        Assert.All(links, r => Assert.True(profiles.ContainsKey((string)r[0]), "link of a missing profile"));

        // Lookups by each identity agree, and the merged attributes are there.
        var service = new ProfileService(catalog.Open());
        foreach (var i in new[] { 0, 1, People / 2, People - 1 })
        {
            var byEmail = await service.GetAsync("Email", $"PERSON.{i}@example.com", ct: Ct);
            Assert.NotNull(byEmail);
            Assert.Equal(byEmail.ProfileId, (await service.GetAsync("CRMID", $"C-{i}", ct: Ct))?.ProfileId);
            Assert.Equal(byEmail.ProfileId, (await service.GetAsync("CookieID", $"k-{i}", ct: Ct))?.ProfileId);
            Assert.Equal(i % 2 == 0 ? "gold" : "silver", byEmail.Attributes["tier"]?.GetValue<string>());
        }
    }

    private static async Task<List<object[]>> Rows(DbConnection conn, string sql)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        await using var r = await cmd.ExecuteReaderAsync(Ct);
        var rows = new List<object[]>();
        while (await r.ReadAsync(Ct))
        {
            var row = new object[r.FieldCount];
            r.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A fresh catalog: a SQLite file in WAL mode (as the portal runs it), or a new PostgreSQL database
    /// through its migrations.</summary>
}
