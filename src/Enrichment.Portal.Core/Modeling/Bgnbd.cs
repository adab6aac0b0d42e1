using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Enrichment.Portal.Core.Modeling;

/// <summary>One customer's calibration summary: x repeat purchases, recency t_x and age T (both from the first purchase), in the time unit.</summary>
public readonly record struct RfmSummary(double X, double Tx, double T);

/// <summary>
/// BG/NBD model (Fader, Hardie &amp; Lee 2005, "Counting your customers the easy way"): purchases follow a Poisson
/// process with rate λ ~ Gamma(r, α); after each repeat purchase the customer drops out with probability p ~ Beta(a, b).
/// </summary>
public static class Bgnbd
{
    /// <summary>Log-likelihood of one customer (paper eq. 6, in logs).</summary>
    public static double LogLikelihood(BgnbdParameters m, RfmSummary c)
    {
        var (r, alpha, a, b) = (m.R, m.Alpha, m.A, m.B);
        var x = c.X;
        var a1 = SpecialFunctions.GammaLn(r + x) - SpecialFunctions.GammaLn(r) + r * Math.Log(alpha);
        var a2 = SpecialFunctions.GammaLn(a + b) + SpecialFunctions.GammaLn(b + x) - SpecialFunctions.GammaLn(b) - SpecialFunctions.GammaLn(a + b + x);
        var a3 = -(r + x) * Math.Log(alpha + c.T);
        if (x <= 0) return a1 + a2 + a3;
        var a4 = Math.Log(a) - Math.Log(b + x - 1) - (r + x) * Math.Log(alpha + c.Tx);
        var max = Math.Max(a3, a4);
        return a1 + a2 + max + Math.Log(Math.Exp(a3 - max) + Math.Exp(a4 - max));
    }

    public static double LogLikelihood(BgnbdParameters m, IReadOnlyList<RfmSummary> customers)
    {
        double s = 0;
        foreach (var c in customers) s += LogLikelihood(m, c);
        return s;
    }

    /// <summary>Maximum-likelihood fit (Nelder-Mead on log-parameters, from r=α=a=b=1).</summary>
    public static BgnbdParameters Fit(IReadOnlyList<RfmSummary> customers)
    {
        if (customers.Count < 10) throw new ModelTrainingException($"BG/NBD needs at least 10 customers in the calibration period, got {customers.Count}.");
        // Group identical summaries: the likelihood is a sum, so each distinct (x, t_x, T) is evaluated once with its count.
        var groups = customers.GroupBy(c => c).Select(g => (g.Key, (double)g.Count())).ToArray();
        double Objective(Vector<double> v)
        {
            var m = new BgnbdParameters(Math.Exp(v[0]), Math.Exp(v[1]), Math.Exp(v[2]), Math.Exp(v[3]));
            double s = 0;
            foreach (var (c, n) in groups) s += n * LogLikelihood(m, c);
            return double.IsFinite(s) ? -s : 1e300;
        }
        var start = Vector<double>.Build.Dense([0, Math.Log(Math.Max(1e-3, customers.Average(c => c.T))), 0, 0]);
        var result = NelderMeadSimplex.Minimum(ObjectiveFunction.Value(Objective), start, 1e-10, 5000);
        var p = result.MinimizingPoint;
        // Restart once from the optimum to escape a collapsed simplex.
        p = NelderMeadSimplex.Minimum(ObjectiveFunction.Value(Objective), p, 1e-12, 5000).MinimizingPoint;
        return new BgnbdParameters(Math.Exp(p[0]), Math.Exp(p[1]), Math.Exp(p[2]), Math.Exp(p[3]));
    }

    /// <summary>Expected purchases in the next <paramref name="t"/> units for a customer with history <paramref name="c"/> (paper eq. 10).</summary>
    public static double ConditionalExpectedPurchases(BgnbdParameters m, RfmSummary c, double t)
    {
        if (t <= 0) return 0;
        var (r, alpha, a, b) = (m.R, m.Alpha, m.A, m.B);
        var x = c.X;
        var z = t / (alpha + c.T + t);
        var hyp = Hypergeometric.F21(r + x, b + x, a + b + x - 1, z);
        var numerator = (a + b + x - 1) / (a - 1) * (1 - Math.Pow((alpha + c.T) / (alpha + c.T + t), r + x) * hyp);
        var denominator = 1 + (x > 0 ? a / (b + x - 1) * Math.Pow((alpha + c.T) / (alpha + c.Tx), r + x) : 0);
        return numerator / denominator;
    }

    /// <summary>Probability the customer is still alive at T (paper eq. 13).</summary>
    public static double ProbabilityAlive(BgnbdParameters m, RfmSummary c)
    {
        if (c.X <= 0) return 1;
        return 1 / (1 + m.A / (m.B + c.X - 1) * Math.Pow((m.Alpha + c.T) / (m.Alpha + c.Tx), m.R + c.X));
    }
}

/// <summary>Gauss hypergeometric function by its power series (|z| &lt; 1).</summary>
public static class Hypergeometric
{
    public static double F21(double a, double b, double c, double z)
    {
        if (Math.Abs(z) >= 1) throw new ArgumentOutOfRangeException(nameof(z), "2F1 series needs |z| < 1.");
        double term = 1, sum = 1;
        for (var k = 0; k < 100_000; k++)
        {
            term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
            sum += term;
            if (Math.Abs(term) < 1e-14 * Math.Abs(sum)) break;
        }
        return sum;
    }
}

/// <summary>One customer's spend summary for Gamma-Gamma: x repeat transactions and their mean value.</summary>
public readonly record struct SpendSummary(double X, double MeanValue);

/// <summary>
/// Gamma-Gamma spend model (Fader, Hardie &amp; Lee 2005, "RFM and CLV"): each transaction's value z ~ Gamma(p, ν),
/// ν ~ Gamma(q, v) (v a rate), so the mean of x transactions m_x has a closed-form marginal density.
/// </summary>
public static class GammaGamma
{
    /// <summary>log f(m_x | p, q, v, x) = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m_x + px ln x − (px+q) ln(v + x m_x).</summary>
    public static double LogLikelihood(GammaGammaParameters m, SpendSummary s)
    {
        var (p, q, v) = (m.P, m.Q, m.V);
        var px = p * s.X;
        return SpecialFunctions.GammaLn(px + q) - SpecialFunctions.GammaLn(px) - SpecialFunctions.GammaLn(q) + q * Math.Log(v)
               + (px - 1) * Math.Log(s.MeanValue) + px * Math.Log(s.X) - (px + q) * Math.Log(v + s.X * s.MeanValue);
    }

    public static GammaGammaParameters Fit(IReadOnlyList<SpendSummary> customers)
    {
        var data = customers.Where(c => c.X > 0 && c.MeanValue > 0).ToArray();
        if (data.Length < 10) throw new ModelTrainingException($"Gamma-Gamma needs at least 10 customers with repeat purchases and positive spend, got {data.Length}.");
        double Objective(Vector<double> w)
        {
            var m = new GammaGammaParameters(Math.Exp(w[0]), Math.Exp(w[1]), Math.Exp(w[2]));
            double s = 0;
            foreach (var c in data) s += LogLikelihood(m, c);
            return double.IsFinite(s) ? -s : 1e300;
        }
        var start = Vector<double>.Build.Dense([0, 0, Math.Log(data.Average(c => c.MeanValue))]);
        var p = NelderMeadSimplex.Minimum(ObjectiveFunction.Value(Objective), start, 1e-10, 5000).MinimizingPoint;
        p = NelderMeadSimplex.Minimum(ObjectiveFunction.Value(Objective), p, 1e-12, 5000).MinimizingPoint;
        return new GammaGammaParameters(Math.Exp(p[0]), Math.Exp(p[1]), Math.Exp(p[2]));
    }

    /// <summary>E[M | p, q, v, m_x, x] = p (v + x m_x) / (p x + q − 1); with x = 0 the population mean p v / (q − 1).</summary>
    public static double ConditionalExpectedValue(GammaGammaParameters m, SpendSummary s) =>
        m.P * (m.V + s.X * s.MeanValue) / (m.P * s.X + m.Q - 1);
}
