using System.Security.Claims;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Api;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.JSInterop;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Pages.Query;

public partial class QueryPage
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext SandboxScope { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    private string? sql;
    private int limit = 1000;
    private int maxTimeoutSeconds = 60;
    private bool running;
    private QueryResult? result;
    private string? error, errorTitle;
    private IReadOnlyList<QueryTable>? tables;
    private IEnumerable<object[]> Rows => (IEnumerable<object[]>?)result?.Rows! ?? [];
    private List<QueryHistoryEntry> history = [];
    private ClaimsPrincipal user = new();
    private readonly CancellationTokenSource leaving = new();

    protected override async Task OnInitializedAsync()
    {
        if (AuthState is not null) user = (await AuthState).User;
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        var queries = scope.ServiceProvider.GetRequiredService<SandboxQueries>();
        maxTimeoutSeconds = queries.MaxTimeoutSeconds;
        tables = await queries.TablesAsync(leaving.Token);
        history = await queries.History(user.Caller().Principal).Take(20).ToListAsync(leaving.Token);
        if (string.IsNullOrEmpty(sql) && tables.Count > 0)
            sql = $"SELECT *\nFROM {tables[0].Name}\nLIMIT 100";
    }

    private async Task OnEditorKeyDown(KeyboardEventArgs e)
    {
        if (e.Key == "Enter" && (e.CtrlKey || e.MetaKey)) await RunAsync();
    }

    private async Task RunAsync()
    {
        if (running || string.IsNullOrWhiteSpace(sql)) return;
        running = true;
        error = errorTitle = null;
        StateHasChanged();
        try
        {
            await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
            var queries = scope.ServiceProvider.GetRequiredService<SandboxQueries>();
            try
            {
                result = await queries.RunAsync(sql, limit, null, user.Caller(), leaving.Token);
            }
            catch (QueryRejectedException e) { (errorTitle, error, result) = ("Query rejected:", e.Reason, null); }
            catch (QueryTimeoutException e) { (errorTitle, error, result) = ("Query timed out:", e.Message, null); }
            catch (QueryBusyException e) { (errorTitle, error, result) = ("Too many queries:", e.Message, null); }
            history = await queries.History(user.Caller().Principal).Take(20).ToListAsync(leaving.Token);
        }
        catch (OperationCanceledException) { }
        finally { running = false; }
    }

    private void Insert(string text)
    {
        var current = sql ?? "";
        sql = current.Length == 0 || char.IsWhiteSpace(current[^1]) ? current + text : current + " " + text;
    }

    private void Load(QueryHistoryEntry h) => sql = h.Sql;

    private async Task DownloadCsvAsync()
    {
        if (result is null) return;
        await JS.InvokeVoidAsync("enrichmentPortal.download", $"query-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv", "text/csv", QueryCsv.Write(result));
    }

    private async Task SaveAsync()
    {
        var dialog = await Dialogs.ShowAsync<SaveQueryDialog>("Save as dataset",
            new DialogParameters<SaveQueryDialog> { { d => d.Sql, sql }, { d => d.Actor, user.Identity?.Name } },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        var closed = await dialog.Result;
        if (closed is { Canceled: false, Data: SavedQuery saved })
        {
            Snackbar.Add($"Saved {Format.Count(saved.RowCount)} rows as the dataset '{saved.Dataset.Name}'.", Severity.Success);
            await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
            tables = await scope.ServiceProvider.GetRequiredService<SandboxQueries>().TablesAsync(leaving.Token);
        }
    }

    private static bool NumericType(string type) =>
        type.ToUpperInvariant() is var t && (t.Contains("INT") || t is "DOUBLE" or "FLOAT" or "REAL" || t.StartsWith("DECIMAL", StringComparison.Ordinal));

    private static string QuoteIfNeeded(string name) =>
        name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') && name.Length > 0 && !char.IsAsciiDigit(name[0])
            ? name : "\"" + name.Replace("\"", "\"\"") + "\"";

    public void Dispose()
    {
        leaving.Cancel();
        leaving.Dispose();
    }
}
