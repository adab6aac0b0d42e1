using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Models;

/// <summary>A recipe parameter as forms show it.</summary>
/// <param name="Kind"><c>dataset</c> (an event dataset id), <c>date</c>, <c>int</c>, <c>number</c>, <c>text</c> or <c>choice</c>.</param>
public sealed record RecipeParameterInfo(string Name, string Label, string Kind, string Help, bool Required = false, IReadOnlyList<string>? Choices = null, string? Default = null);

/// <summary>A recipe with a plain explanation for people (wizard step 5, the new-model form).</summary>
public sealed record RecipeInfo(string Name, string Title, string Explanation, string Output, bool NeedsLabel, bool UsesSource, IReadOnlyList<RecipeParameterInfo> Parameters);

/// <summary>The recipes of ARCHITECTURE.md (and uplift) with what they do, in plain words, and their parameters (API.md Models).</summary>
public static class RecipeCatalog
{
    private static readonly RecipeParameterInfo EventDataset = new("eventDatasetId", "Event dataset", "dataset", "The dataset of events (purchases, visits) the recipe reads.");

    public static readonly IReadOnlyList<RecipeInfo> All =
    [
        new("propensity", "Propensity to convert",
            "Predicts how likely each customer is to do something (buy, subscribe, answer a campaign), learned from customers whose outcome you know. It gives a score from 0 to 1 per customer.",
            "score 0-1", NeedsLabel: true, UsesSource: true,
            [
                EventDataset with { Help = "Optional: define the label from events instead of a column, and add event aggregates as features." },
                new("eventType", "Event type", "text", "With an event dataset: the event that counts as a conversion (e.g. purchase)."),
                new("cutoff", "Cutoff date", "date", "With an event dataset: features use only events before this date; the label looks after it."),
                new("windowDays", "Window (days)", "int", "With an event dataset: converted = an event of the type within this many days after the cutoff.", Default: "90"),
            ]),
        new("churn", "Propensity to churn",
            "Predicts how likely each customer is to leave (cancel, stop buying). Same method as propensity: a score from 0 to 1 per customer, learned from customers who did or did not leave.",
            "score 0-1", NeedsLabel: true, UsesSource: true,
            [
                EventDataset with { Help = "Optional: define churn from events (no event of the type within the window after the cutoff)." },
                new("eventType", "Event type", "text", "With an event dataset: the activity whose absence means churn."),
                new("cutoff", "Cutoff date", "date", "With an event dataset: features use only events before this date."),
                new("windowDays", "Window (days)", "int", "With an event dataset: churned = no event within this many days after the cutoff.", Default: "90"),
            ]),
        new("clv", "Customer lifetime value",
            "Estimates how much each customer will spend over a coming period from their purchase history (how often, how recently, how much), compared with simply carrying past spend forward.",
            "value", NeedsLabel: false, UsesSource: false,
            [
                EventDataset with { Required = true },
                new("method", "Method", "choice", "bgnbd: the classic buy-till-you-die model; regression: gradient-boosted trees on features.", Choices: ["bgnbd", "regression"], Default: "bgnbd"),
                new("customerField", "Customer field", "text", "The column of the event dataset that identifies the customer (default: its primary identity)."),
                new("timestampField", "Timestamp field", "text", "Default: timestamp."),
                new("amountField", "Amount field", "text", "The spend of each purchase."),
                new("calibrationEnd", "Calibration end", "date", "Inclusive: purchases on or before this date train the model; those after it (from the next day) measure it.", Required: true),
                new("horizon", "Horizon", "number", "How far ahead to predict, in the time unit.", Default: "39"),
                new("timeUnit", "Time unit", "choice", "Weeks (default) or days.", Choices: ["weeks", "days"], Default: "weeks"),
                new("discountRate", "Discount rate", "number", "Optional, per time unit."),
            ]),
        new("affinity", "Product or category affinity",
            "Finds, for each customer, the products or categories they are most drawn to (recent purchases count more) and what usually comes next in baskets, measured against simply suggesting the most popular items.",
            "top items", NeedsLabel: false, UsesSource: false,
            [
                EventDataset with { Required = true },
                new("itemField", "Item field", "text", "The column with the product or category.", Required: true),
                new("topN", "Top N", "int", "How many items per customer.", Default: "3"),
            ]),
        new("engagement", "Engagement score",
            "Scores each customer from 0 to 100 by how recently, how often and how much they engage (RFM quintiles combined by a fixed formula). No label needed.",
            "score 0-100", NeedsLabel: false, UsesSource: false,
            [EventDataset with { Required = true }, new("amountField", "Amount field", "text", "Optional: the spend column for the monetary part.")]),
        new("segmentation", "Segmentation",
            "Groups customers into segments of similar people (KMeans on standardized features) and describes each in words, e.g. \"high frequency, low spend\". No label needed.",
            "segment", NeedsLabel: false, UsesSource: true,
            [new("k", "Number of segments", "int", "Leave empty to let the portal choose 2-10 by silhouette.")]),
        new("uplift", "Uplift (campaign response)",
            "Estimates, for each customer, how much a treatment (an e-mail, an offer) changes the chance of an outcome, learned from a past campaign with a treated and a control group: one model for the treated, one for the control, the uplift is the difference. Target the customers with the highest uplift, not those who would convert anyway. Choose the outcome as the label.",
            "uplift -1..1", NeedsLabel: true, UsesSource: true,
            [
                new("treatmentField", "Treatment column", "text", "The column that says which group a row was in (e.g. segment).", Required: true),
                new("treatedValue", "Treated value", "text", "The value of the treatment column for treated rows (e.g. Mens E-Mail).", Required: true),
                new("controlValue", "Control value", "text", "The value for the control rows (e.g. No E-Mail); empty: every other value. Rows with other values are left out."),
            ]),
        new("custom", "Model trained elsewhere (ONNX)",
            "Deploys a model your data scientists trained elsewhere (scikit-learn, XGBoost, LightGBM, PyTorch) and exported as ONNX: upload the file, map its inputs to fields, choose the output that becomes the insight. It then scores, schedules and watches for drift like the others.",
            "score, value or class", NeedsLabel: false, UsesSource: false, []),
    ];

    /// <summary>Whether the recipe's versions come from uploaded ONNX files rather than training.</summary>
    public static bool IsUploaded(string recipe) => recipe == "custom";

    public static RecipeInfo? Find(string? name) => All.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    public static bool TryParse(string? name, out Recipe recipe)
    {
        recipe = default;
        if (Find(name) is not { } info) return false;
        recipe = info.Name switch
        {
            "propensity" => Recipe.Propensity,
            "churn" => Recipe.Churn,
            "clv" => Recipe.Clv,
            "affinity" => Recipe.Affinity,
            "engagement" => Recipe.Engagement,
            "uplift" => Recipe.Uplift,
            "custom" => Recipe.Custom,
            _ => Recipe.Segmentation,
        };
        return true;
    }

    /// <summary>Whether the recipe is binary classification (propensity, churn).</summary>
    public static bool IsBinary(string recipe) => recipe is "propensity" or "churn";
}
