namespace Enrichment.Portal.Core.Guardrails;

/// <summary>Status of a guardrail: usage below the warning share, at or above it, or over the limit.</summary>
public static class GuardrailStatus
{
    public const string Ok = "ok";
    public const string Warning = "warning";
    public const string Exceeded = "exceeded";

    /// <summary>exceeded when <paramref name="current"/> &gt; <paramref name="limit"/>; warning when it is at least <paramref name="warningRatio"/> of it.</summary>
    public static string Of(long current, long limit, double warningRatio = 0.8) =>
        limit <= 0 ? Ok : current > limit ? Exceeded : current >= limit * warningRatio ? Warning : Ok;
}

/// <summary>How a guardrail is enforced: <c>hard</c> rejects, <c>soft</c> warns.</summary>
public static class GuardrailEnforcement
{
    public const string Hard = "hard";
    public const string Soft = "soft";
}

/// <summary>A published source of a default (docs/GUARDRAILS.md).</summary>
public sealed record GuardrailSource(string Title, string Url);

/// <summary>A guardrail as the catalog defines it: a stable key, the name shown and returned by the API, unit, enforcement, what it means.</summary>
public sealed record GuardrailDefinition(string Key, string Name, string Unit, string Enforcement, string Description, string Where, GuardrailSource Source);

/// <summary>One guardrail with its usage now, in the shape of <c>GET /api/v1/guardrails</c> items.</summary>
/// <param name="Offender">What is closest to the limit (a schema name, a profile id, a dataset and batch), when there is one.</param>
/// <param name="OffenderHref">A page of the portal that shows the offender.</param>
/// <param name="Note">A remark about the figure (e.g. "audiences do not exist yet: usage is 0").</param>
public sealed record GuardrailItem(
    string Key, string Name, long Limit, long Current, string Unit, string Status, string Enforcement, string Description,
    string Where, string? Offender, string? OffenderHref, string? Note, GuardrailSource Source)
{
    /// <summary>Usage as a share of the limit (0 when the limit is 0).</summary>
    public double Ratio => Limit <= 0 ? 0 : (double)Current / Limit;
}

/// <summary>The guardrails of the portal, with the defaults of Adobe Experience Platform's published guardrails.</summary>
public static class GuardrailCatalog
{
    public static readonly GuardrailSource ProfileGuardrails = new("Guardrails for Real-Time Customer Profile data",
        "https://experienceleague.adobe.com/docs/experience-platform/profile/guardrails.html");
    public static readonly GuardrailSource IdentityGuardrails = new("Guardrails for Identity Service data",
        "https://experienceleague.adobe.com/docs/experience-platform/identity/guardrails.html");
    public static readonly GuardrailSource IngestionGuardrails = new("Guardrails for data ingestion",
        "https://experienceleague.adobe.com/docs/experience-platform/ingestion/guardrails.html");
    public static readonly GuardrailSource SegmentationGuardrails = new("Guardrails for Real-Time Customer Profile data (segmentation)",
        "https://experienceleague.adobe.com/docs/experience-platform/profile/guardrails.html");
    public static readonly GuardrailSource XdmGuardrails = new("Guardrails for Real-Time Customer Profile data (XDM fields)",
        "https://experienceleague.adobe.com/docs/experience-platform/profile/guardrails.html");

    public const string ProfileDatasets = "profile-datasets";
    public const string EventDatasets = "event-datasets";
    public const string IdentitiesPerGraph = "identities-per-graph";
    public const string EventsPerProfile = "events-per-profile";
    public const string ProfileRecordSize = "profile-record-size";
    public const string EventSize = "event-size";
    public const string ArrayItems = "array-items";
    public const string BatchesPerDay = "batches-per-day";
    public const string FieldsPerSchema = "fields-per-schema";
    public const string Audiences = "audiences";
    public const string BatchFileSize = "batch-file-size";

    public static readonly IReadOnlyList<GuardrailDefinition> All =
    [
        new(ProfileDatasets, Datasets.GuardrailUsage.ProfileDatasets, "datasets", GuardrailEnforcement.Soft,
            "Datasets of profile schemas in the sandbox (system datasets included). More make merges slower.",
            "Creating a dataset answers with a warning past the limit.", ProfileGuardrails),
        new(EventDatasets, Datasets.GuardrailUsage.EventDatasets, "datasets", GuardrailEnforcement.Soft,
            "Datasets of event schemas in the sandbox.", "Creating a dataset answers with a warning past the limit.", ProfileGuardrails),
        new(IdentitiesPerGraph, "identities per graph", "identities", GuardrailEnforcement.Hard,
            "Identities in the largest identity graph. Past the limit the oldest cookie and device identities are evicted and the profile is flagged.",
            "Identity stage: eviction, counted in profile stats as graphsOverLimit.", IdentityGuardrails),
        new(EventsPerProfile, "events per profile", "events", GuardrailEnforcement.Soft,
            "Events on the profile with the most events.", "A batch that puts a profile over the limit carries a warning.", ProfileGuardrails),
        new(ProfileRecordSize, "profile record size", "bytes", GuardrailEnforcement.Hard,
            "Largest accepted record of a profile dataset. A larger record is a rejected row (RECORD_TOO_LARGE) with its row number.",
            "Validation of every batch and streamed record.", ProfileGuardrails),
        new(EventSize, "event size", "bytes", GuardrailEnforcement.Hard,
            "Largest accepted record of an event dataset. A larger record is a rejected row (RECORD_TOO_LARGE) with its row number.",
            "Validation of every batch and streamed record.", ProfileGuardrails),
        new(ArrayItems, "array items in a profile fragment", "items", GuardrailEnforcement.Soft,
            "Most items of one array field in an accepted record.", "A batch with a longer array carries a warning.", ProfileGuardrails),
        new(BatchesPerDay, "batches per day", "batches", GuardrailEnforcement.Soft,
            "Batches created today (UTC) in the sandbox: uploads and system writes such as scoring outputs; streaming micro-batches do not count.",
            "Uploads past the limit are accepted with a warning on the batch.", IngestionGuardrails),
        new(FieldsPerSchema, Schemas.SchemaRules.FieldsPerSchemaGuardrail, "fields", GuardrailEnforcement.Hard,
            "Fields of the largest schema.", "Saving a schema with more fields is refused (422).", XdmGuardrails),
        new(Audiences, "audiences per sandbox", "audiences", GuardrailEnforcement.Soft,
            "Audiences (segments) of the sandbox.", "Creating an audience past the limit warns.", SegmentationGuardrails),
        new(BatchFileSize, "batch file size", "bytes", GuardrailEnforcement.Hard,
            "Largest uploaded batch file. The limit is Guardrails:BatchFileBytes, or the upload limit Ingestion:MaxUploadBytes.",
            "Uploads over the limit are refused (413) before they are stored.", IngestionGuardrails),
    ];

    public static GuardrailDefinition Get(string key) => All.First(d => d.Key == key);
}
