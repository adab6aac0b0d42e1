using Enrichment.Portal.Web.Hosting;

// `--worker`: serve jobs only (scale-out with PostgreSQL, docs/DEPLOYMENT.md); no UI, no API. `--demo`: load the demo sandbox once started.
var builder = WebApplication.CreateBuilder(DemoStartup.TakeDemoSwitch(ScaleOut.TakeWorkerSwitch(args)));
builder.AddPortal();

var app = builder.Build();
app.UsePortal();
await app.InitializePortalAsync();
if (!ScaleOut.IsWorker(app.Configuration)) await app.QueueDemoIfAskedAsync();
app.Run();

public partial class Program;
