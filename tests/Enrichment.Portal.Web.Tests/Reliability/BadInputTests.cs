using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// The generated bad-input corpus (<see cref="BadInputCorpus"/>) through the batch endpoint, the streaming endpoint and
/// every JSON body of the API: a 4xx problem or a batch that ends failed / partial with row-level reasons, never a 500,
/// the good rows kept, and <c>/health</c> healthy after each. Counts go to a summary file for docs/RELIABILITY.md.
/// </summary>
public sealed class BadInputTests(PortalHost host)
{
    private static bool Final(JsonNode b) => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned";
    private static long L(JsonNode b, string k) => b[k]?.GetValue<long>() ?? 0;

    private async Task HealthyAsync(string after)
    {
        using var client = host.Api(null);
        var health = await client.GetAsync("/health");
        Assert.True(health.StatusCode == HttpStatusCode.OK, $"/health after {after}: {(int)health.StatusCode} {await health.Content.ReadAsStringAsync()}");
    }

    private static void Summary(string name, string line) =>
        File.WriteAllText(Path.Combine(Path.GetTempPath(), $"ep-reliability-{name}.txt"), line + "\n");

    [Fact]
    public async Task Every_bad_file_is_refused_or_kept_in_part_with_row_reasons_and_never_a_500()
    {
        using var api = host.Api(await host.KeyAsync("admin", "badfiles-" + Guid.NewGuid().ToString("N")[..6]));
        var schemaId = (await CreateAsync(api, "/api/v1/schemas", BadInputCorpus.Schema(Unique("Bad input")))).Id();
        var datasetId = (await CreateAsync(api, "/api/v1/datasets", new { name = Unique("Bad input"), schemaId })).Id();
        using var dir = TestData.NewTempDir();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var wrong = new List<string>();
        int tried = 0, serverErrors = 0;
        long goodExpected = 0, goodWritten = 0;
        foreach (var file in BadInputCorpus.Files(tag, dir.Path))
        {
            tried++;
            using var form = new MultipartFormDataContent();
            var content = new ByteArrayContent(file.Bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, "file", file.FileName);
            // Within a threshold that lets the good rows of a partly bad file through (the default, 5%, fails the batch whole).
            foreach (var (k, v) in (file.Fields ?? []).Append(new("errorThreshold", "90"))) form.Add(new StringContent(v), k);
            using var response = await api.PostAsync($"/api/v1/datasets/{datasetId}/batches", form);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            string? problem = null;
            if (status >= 500) { serverErrors++; problem = "a server error"; }
            else if (status >= 400)
            {
                if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") problem = "a 4xx that is not a problem response";
                else if (file.Outcome is not (Outcome.Rejected or Outcome.Any)) problem = $"refused at upload, expected {file.Outcome}";
            }
            else
            {
                var id = JsonNode.Parse(text)!["id"]!.GetValue<string>();
                var batch = await PortalHost.PollAsync(api, $"/api/v1/batches/{id}", Final);
                var (state, written, failed) = (batch["status"]!.GetValue<string>(), L(batch, "recordsWritten"), L(batch, "recordsFailed"));
                text = batch.ToJsonString();
                var errors = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{id}/errors?limit=5"));
                var rowErrors = errors["items"]?.AsArray() ?? [];
                switch (file.Outcome)
                {
                    case Outcome.Rejected when state == "success" && failed == 0:
                        problem = "accepted whole, expected a refusal"; break;
                    case Outcome.Rejected when state == "failed" && string.IsNullOrWhiteSpace(batch["failureReason"]?.GetValue<string>()) && rowErrors.Count == 0:
                        problem = "failed without a reason"; break;
                    case Outcome.Partial when state != "success" || written != file.Good || failed == 0 || rowErrors.Count == 0:
                        problem = $"expected success with {file.Good} rows and row errors; got {state}, {written} written, {failed} failed, {rowErrors.Count} row errors"; break;
                    case Outcome.Partial when rowErrors.Any(e => e!["row"] is null):
                        problem = "a row error without its row number"; break;
                    case Outcome.Clean when state != "success" || written != file.Good || failed != 0:
                        problem = $"expected success with {file.Good} rows; got {state}, {written} written, {failed} failed"; break;
                }
                if (file.Outcome is Outcome.Partial or Outcome.Clean)
                {
                    goodExpected += file.Good;
                    goodWritten += Math.Min(written, file.Good);
                }
            }
            if (problem is not null) wrong.Add($"{file.Name} ({file.FileName}): {status}, {problem}. {(text.Length > 400 ? text[..400] : text)}");
            await HealthyAsync(file.Name);
        }
        // Formula cells are stored raw and neutralized in the CSV export of the dataset (a spreadsheet opens it).
        var csv = await api.GetStringAsync($"/api/v1/datasets/{datasetId}/data?format=csv&columns=id,name");
        var lines = csv.Split('\n');
        foreach (var (id, cell) in new[] { ("1", "'=cmd|' /C calc'!A0"), ("2", "'+1+1"), ("3", "'-2+3"), ("4", "'@SUM(A1:A9)") })
            if (!lines.Contains($"{tag}-{id},{cell}")) wrong.Add($"the CSV export does not neutralize {cell}");
        var risky = lines.Skip(1).Select(l => l.Split(',', 2).ElementAtOrDefault(1) ?? "").Count(c => c.Length > 0 && "=+-@".Contains(c[0]) && !double.TryParse(c, out _));
        if (risky > 0) wrong.Add($"{risky} formula cells left raw in the CSV export");
        Summary("files", $"files: {tried} tried, {serverErrors} server errors, {goodExpected - goodWritten} good rows lost of {goodExpected}, {wrong.Count} wrong");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public async Task Every_bad_streaming_body_is_a_4xx_or_keeps_its_good_records()
    {
        var sandbox = "badstream-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = host.Api(await host.KeyAsync("admin", sandbox));
        var schemaId = (await CreateAsync(admin, "/api/v1/schemas", BadInputCorpus.Schema(Unique("Bad stream")))).Id();
        var datasetId = (await CreateAsync(admin, "/api/v1/datasets", new { name = Unique("Bad stream"), schemaId })).Id();
        using var engineer = host.Api(await host.KeyAsync("engineer", sandbox));
        var wrong = new List<string>();
        var tried = 0;
        foreach (var (name, bytes, accepted) in BadInputCorpus.StreamingBodies(Guid.NewGuid().ToString("N")[..6]))
        {
            tried++;
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await engineer.PostAsync($"/api/v1/collection/{datasetId}", content);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            if (status >= 500) wrong.Add($"{name}: a server error");
            else if (accepted is null && status < 400) wrong.Add($"{name}: {status}, expected a 4xx");
            else if (accepted >= 0 && (status != 202 || JsonNode.Parse(text)!["accepted"]!.GetValue<int>() != accepted))
                wrong.Add($"{name}: {status}, expected 202 with {accepted} accepted. {(text.Length > 300 ? text[..300] : text)}");
            else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                wrong.Add($"{name}: a {status} that is not a problem response");
            await HealthyAsync(name);
        }
        Summary("stream", $"streaming bodies: {tried} tried, {wrong.Count} wrong");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    /// <summary>Hostile JSON bodies for every operation that takes one: malformed, wrong top-level kinds, deep, wrong field types, unknown enum values, huge strings, plus the declared schema's own fields with the wrong types.</summary>
    private static IEnumerable<(string Name, string Body)> HostileBodies(JsonNode? schema)
    {
        yield return ("malformed", "{ not json");
        yield return ("null", "null");
        yield return ("an array", "[]");
        yield return ("a string", "\"text\"");
        yield return ("a number", "12345");
        yield return ("nested 10,000 deep", "{\"name\":" + new string('[', 10_000) + new string(']', 10_000) + "}");
        string[] names = ["name", "sql", "rule", "role", "userName", "password", "schemaId", "fields", "recipe", "source", "type", "target", "segmentIds",
            "cron", "threshold", "datasetOrder", "method", "format", "mode", "code", "class", "disabled", "sandbox", "title", "label", "parameters",
            "identity", "namespace", "id", "datasetId", "limit", "timeoutSeconds", "currentPassword", "newPassword", "attributes", "identities", "target"];
        JsonNode[] wrongValues = [123, new JsonArray(), "x", new JsonObject { ["a"] = 1 }, true];
        var obj = new JsonObject();
        var i = 0;
        foreach (var n in names.Distinct()) obj[n] = wrongValues[i++ % wrongValues.Length].DeepClone();
        yield return ("every field of the wrong type", obj.ToJsonString());
        yield return ("unknown enum values", """{"name":"x","role":"emperor","recipe":"magic","type":"teleport","class":"weird","method":"coinflip","format":"xls","mode":"sometimes","sql":"SELECT 1","rule":{"attribute":"age","op":"approx","value":1},"cron":"every tuesday","threshold":7}""");
        var big = new string('A', 256 * 1024);
        yield return ("huge strings", new JsonObject { ["name"] = big, ["sql"] = big, ["userName"] = big, ["password"] = big, ["code"] = big, ["target"] = big, ["title"] = big, ["cron"] = big }.ToJsonString());
        if (schema?["properties"] is JsonObject props)
        {
            var typed = new JsonObject();
            foreach (var (k, v) in props)
                typed[k] = (v?["type"]?.ToString() ?? "") switch { var t when t.Contains("string") => 42, var t when t.Contains("integer") || t.Contains("number") => "many", var t when t.Contains("boolean") => "perhaps", _ => "x" };
            yield return ("declared fields of the wrong type", typed.ToJsonString());
            yield return ("declared fields missing", "{}");
        }
    }

    [Fact]
    public async Task Every_json_body_of_the_api_answers_hostile_bodies_with_a_4xx_never_a_500()
    {
        var a = await SandboxFixture.BuildAsync(host, "badbodies-" + Guid.NewGuid().ToString("N")[..6]);
        using var api = host.Api(a.Keys["admin"]);
        var doc = await PortalHost.JsonAsync(await api.GetAsync("/openapi/v1.json"));
        var wrong = new List<string>();
        int calls = 0, ops = 0;
        foreach (var (path, item) in doc["paths"]!.AsObject())
            foreach (var (method, op) in item!.AsObject())
            {
                if (method is not ("post" or "put" or "patch")) continue;
                var id = op!["operationId"]!.GetValue<string>();
                if (AuthorizationMatrixTests.Table[id].Costly) continue;
                ops++;
                var segments = path.Split('/');
                for (var s = 0; s < segments.Length; s++)
                    if (segments[s].StartsWith('{')) segments[s] = Uri.EscapeDataString(a.Ids[SandboxFixture.KindOf(segments[s - 1], segments[s].Trim('{', '}'))!]);
                var url = string.Join('/', segments);
                var schema = op["requestBody"]?["content"]?["application/json"]?["schema"];
                if (schema?["$ref"] is { } r) schema = doc["components"]!["schemas"]![r.GetValue<string>().Split('/').Last()];
                foreach (var (name, body) in HostileBodies(schema))
                {
                    calls++;
                    using var response = await api.SendAsync(new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
                    var status = (int)response.StatusCode;
                    if (status >= 500)
                    {
                        var t = await response.Content.ReadAsStringAsync();
                        wrong.Add($"{method.ToUpperInvariant()} {url} ({id}) with {name}: {status} {(t.Length > 300 ? t[..300] : t)}");
                    }
                }
                await HealthyAsync(id);
            }
        Summary("bodies", $"api bodies: {ops} operations, {calls} calls, {wrong.Count} server errors");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
