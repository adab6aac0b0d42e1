using Enrichment.Portal.Web.Hosting;

// `--worker`: serve jobs only (scale-out with PostgreSQL); no UI, no API.
var builder = WebApplication.CreateBuilder(args);
builder.AddPortal();

var app = builder.Build();
app.UsePortal();
await app.InitializePortalAsync();
app.Run();

public partial class Program;
