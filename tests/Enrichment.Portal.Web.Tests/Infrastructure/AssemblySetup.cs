using Enrichment.Portal.Tests;

// One real portal for every API test in this assembly (Hangfire keeps process-wide state).
[assembly: AssemblyFixture(typeof(PortalHost))]
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
