using Npgsql;

namespace Enrichment.Portal.Core.Tests.Catalog;

/// <summary>Drops a test's PostgreSQL database. <c>WITH (FORCE)</c> terminates what is still connected, which
/// includes an autovacuum worker that happens to be in the database; without <c>pg_signal_backend</c> that fails
/// with 42501, and a database still in use fails with 55006. Both are retried briefly; a database that still cannot
/// be dropped is left behind (named <c>ep_test_*</c>) rather than failing the test it served.</summary>
internal static class PgTestDatabase
{
    public static async Task DropAsync(string adminConnectionString, string database)
    {
        NpgsqlConnection.ClearAllPools();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = new NpgsqlConnection(adminConnectionString);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", conn);
                await cmd.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState is "42501" or "55006" && attempt < 10)
            {
                await Task.Delay(300 * attempt);
            }
            catch (PostgresException e) when (e.SqlState is "42501" or "55006")
            {
                Console.Error.WriteLine($"test database {database} left behind: {e.MessageText}");
                return;
            }
        }
    }
}
