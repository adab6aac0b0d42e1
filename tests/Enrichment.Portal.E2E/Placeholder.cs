namespace Enrichment.Portal.E2E;
