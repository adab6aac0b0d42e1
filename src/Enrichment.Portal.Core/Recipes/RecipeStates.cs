using System.ComponentModel;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Enrichment.Portal.Core.Recipes;

// The recipe state a model artifact keeps for scoring, per recipe.

/// <summary>BG/NBD parameters (Fader, Hardie &amp; Lee 2005), in the run's time unit.</summary>
public sealed record BgnbdParameters(double R, double Alpha, double A, double B);

/// <summary>Gamma-Gamma spend parameters (Fader, Hardie &amp; Lee 2005, "RFM and CLV"); v is the gamma scale of the spend rate prior.</summary>
public sealed record GammaGammaParameters(double P, double Q, double V);

/// <summary>Recipe state of a CLV model.</summary>
/// <param name="LogTarget">Regression: the trees predict log(1 + spend) (false: spend, as versions before it was chosen).</param>
public sealed record ClvState(string Method, double Horizon, string TimeUnit, double? DiscountRate, BgnbdParameters? Bgnbd, GammaGammaParameters? GammaGamma, double FallbackSpend, bool LogTarget = false);

/// <summary>Recipe state of an affinity model: half-life of the recency weight, N, and the association rules kept.</summary>
public sealed record AffinityState(string ItemField, double HalfLifeDays, int TopN, IReadOnlyList<string> Popular, IReadOnlyList<AssociationRule> Rules);

/// <summary>Recipe state of an engagement model: inner quintile cut points of recency (days), frequency and monetary.</summary>
public sealed record EngagementState(IReadOnlyList<double> RecencyCuts, IReadOnlyList<double> FrequencyCuts, IReadOnlyList<double>? MonetaryCuts);

/// <summary>Recipe state of a segmentation model: standardization and cluster descriptions (segment numbers are 1-based).</summary>
public sealed record SegmentationState(IReadOnlyList<string> Features, IReadOnlyList<double> Means, IReadOnlyList<double> Stds, IReadOnlyList<string> Descriptions);
