using Enrichment.Portal.Core.Auth;

namespace Enrichment.Portal.Web.Api;

public static class PortalApi
{
    /// <summary>All of <c>/api/v1</c>: every route needs a key or a login with at least read rights; writes ask for more.</summary>
    public static void MapPortalApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/api/v1").RequireAuthorization(Policies.Read).DisableAntiforgery();
        v1.MapIdentityNamespacesApi();
        v1.MapSchemaInferenceApi();
        v1.MapSchemasApi();
        v1.MapDatasetsApi();
        v1.MapIngestionApi();
        v1.MapQueriesApi();
        v1.MapJobsApi();
        v1.MapModelsApi();
        v1.MapOnnxModelsApi();
        v1.MapScoringApi();
        v1.MapAdminApi();
        v1.MapDiagnosticsApi();
        v1.MapProfilesApi();
        v1.MapGuardrailsApi();
        v1.MapInsightsApi();
        v1.MapDataAccessApi();
        Notebooks.NotebooksApi.MapNotebooksApi(v1);
        v1.MapAudiencesApi();
        v1.MapDestinationsApi();
        v1.MapDemoApi();
    }
}
