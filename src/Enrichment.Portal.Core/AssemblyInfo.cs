using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enrichment.Portal.Core.Tests")]
[assembly: InternalsVisibleTo("Audiences.Bench")]
[assembly: InternalsVisibleTo("Profiles.Bench")]
