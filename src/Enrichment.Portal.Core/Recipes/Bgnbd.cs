using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Enrichment.Portal.Core.Recipes;

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

    /// <summary>
    /// Maximum-likelihood fit: Nelder-Mead on log-parameters from <paramref name="start"/> (default r=a=b=1, α=mean T) and
    /// from two more spread starts, each restarted from its optimum until the log-likelihood stops improving; the best
    /// optimum wins. The likelihood is a sum, so each distinct (x, t_x, T) is evaluated once with its count.
    /// </summary>
    public static BgnbdParameters Fit(IReadOnlyList<RfmSummary> customers, BgnbdParameters? start = null)
    {
        if (customers.Count < 10) throw new ModelTrainingException($"BG/NBD needs at least 10 customers in the calibration period, got {customers.Count}.");
        var groups = customers.GroupBy(c => c).Select(g => (g.Key, (double)g.Count())).ToArray();
        double Objective(Vector<double> v)
        {
            var m = new BgnbdParameters(Math.Exp(v[0]), Math.Exp(v[1]), Math.Exp(v[2]), Math.Exp(v[3]));
            double s = 0;
            foreach (var (c, n) in groups) s += n * LogLikelihood(m, c);
            return double.IsFinite(s) ? -s : 1e300;
        }
        var meanT = Math.Log(Math.Max(1e-3, customers.Average(c => c.T)));
        double[][] starts = start is { } s0
            ? [[Math.Log(s0.R), Math.Log(s0.Alpha), Math.Log(s0.A), Math.Log(s0.B)]]
            : [[0, meanT, 0, 0], [Math.Log(0.3), meanT - 1, Math.Log(0.5), Math.Log(3)], [Math.Log(3), meanT + 1, Math.Log(2), Math.Log(0.5)]];
        var best = Optimizer.Minimize(Objective, starts);
        return new BgnbdParameters(Math.Exp(best[0]), Math.Exp(best[1]), Math.Exp(best[2]), Math.Exp(best[3]));
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

    /// <summary>Maximum-likelihood fit on the customers with x &gt; 0 repeat transactions of positive mean spend (as <see cref="Bgnbd.Fit"/>: several starts, restarted to convergence).</summary>
    public static GammaGammaParameters Fit(IReadOnlyList<SpendSummary> customers, GammaGammaParameters? start = null)
    {
        var data = customers.Where(c => c.X > 0 && c.MeanValue > 0).GroupBy(c => c).Select(g => (g.Key, (double)g.Count())).ToArray();
        var n = data.Sum(d => d.Item2);
        if (n < 10) throw new ModelTrainingException($"Gamma-Gamma needs at least 10 customers with repeat purchases and positive spend, got {n}.");
        double Objective(Vector<double> w)
        {
            var m = new GammaGammaParameters(Math.Exp(w[0]), Math.Exp(w[1]), Math.Exp(w[2]));
            double s = 0;
            foreach (var (c, k) in data) s += k * LogLikelihood(m, c);
            return double.IsFinite(s) ? -s : 1e300;
        }
        var mean = Math.Log(data.Sum(d => d.Key.MeanValue * d.Item2) / n);
        double[][] starts = start is { } s0
            ? [[Math.Log(s0.P), Math.Log(s0.Q), Math.Log(s0.V)]]
            : [[0, 0, mean], [Math.Log(5), Math.Log(3), mean + 1], [Math.Log(0.5), Math.Log(10), mean - 1]];
        var best = Optimizer.Minimize(Objective, starts);
        return new GammaGammaParameters(Math.Exp(best[0]), Math.Exp(best[1]), Math.Exp(best[2]));
    }

    /// <summary>E[M | p, q, v, m_x, x] = p (v + x m_x) / (p x + q − 1); with x = 0 the population mean p v / (q − 1).</summary>
    public static double ConditionalExpectedValue(GammaGammaParameters m, SpendSummary s) =>
        m.P * (m.V + s.X * s.MeanValue) / (m.P * s.X + m.Q - 1);
}

/// <summary>Nelder-Mead from several starts, each restarted from its own optimum until the objective stops improving.</summary>
internal static class Optimizer
{
    public static double[] Minimize(Func<Vector<double>, double> objective, IEnumerable<double[]> starts)
    {
        var f = ObjectiveFunction.Value(objective);
        double[]? best = null; var bestValue = double.PositiveInfinity;
        foreach (var s in starts)
        {
            var p = Vector<double>.Build.Dense(s);
            var value = objective(p);
            // A collapsed simplex stops early: restarting from its point rebuilds the simplex. Stop when a restart gains < 1e-9.
            for (var i = 0; i < 8; i++)
            {
                MinimizationResult r;
                try { r = NelderMeadSimplex.Minimum(f, p, 1e-12, 10_000); }
                catch (MaximumIterationsException) { break; }
                var gain = value - r.FunctionInfoAtMinimum.Value;
                p = r.MinimizingPoint; value = r.FunctionInfoAtMinimum.Value;
                if (gain < 1e-9) break;
            }
            if (value < bestValue) { bestValue = value; best = p.ToArray(); }
        }
        if (best is null) throw new ModelTrainingException("The maximum-likelihood fit did not converge.");
        return Newton(objective, best);
    }

    /// <summary>
    /// Polishes a Nelder-Mead optimum with Newton steps on a central-difference gradient and Hessian (backtracking, so a
    /// step never makes the objective worse): on flat ridges (Gamma-Gamma's q and v) the simplex stops with a gradient of
    /// ~1e-2, Newton brings it to ~1e-6.
    /// </summary>
    private static double[] Newton(Func<Vector<double>, double> objective, double[] x0)
    {
        const double h = 1e-4;
        var n = x0.Length;
        var x = Vector<double>.Build.Dense(x0);
        var fx = objective(x);
        double F(Vector<double> v, int i, double di, int j, double dj)
        {
            var w = v.Clone(); w[i] += di; w[j] += dj;
            return objective(w);
        }
        for (var iter = 0; iter < 30; iter++)
        {
            var g = Vector<double>.Build.Dense(n);
            var hess = Matrix<double>.Build.Dense(n, n);
            for (var i = 0; i < n; i++)
            {
                var up = F(x, i, h, i, 0); var down = F(x, i, -h, i, 0);
                g[i] = (up - down) / (2 * h);
                hess[i, i] = (up - 2 * fx + down) / (h * h);
                for (var j = 0; j < i; j++)
                    hess[i, j] = hess[j, i] = (F(x, i, h, j, h) - F(x, i, h, j, -h) - F(x, i, -h, j, h) + F(x, i, -h, j, -h)) / (4 * h * h);
            }
            if (g.AbsoluteMaximum() < 1e-7) break;
            Vector<double> step;
            try { step = hess.Cholesky().Solve(g); } // not positive definite: stop (Nelder-Mead's point stands)
            catch (ArgumentException) { break; }
            if (!step.ForAll(double.IsFinite)) break;
            var improved = false;
            for (var t = 1.0; t > 1e-4; t /= 2)
            {
                var candidate = x - t * step;
                var fc = objective(candidate);
                if (fc < fx) { x = candidate; fx = fc; improved = true; break; }
            }
            if (!improved) break;
        }
        return x.ToArray();
    }
}
