using System.Text.Json;

namespace Enrichment.Portal.Core.Schemas.Xdm;

/// <summary>
/// Imports a schema in Adobe's XDM JSON Schema format into a <see cref="SchemaDefinition"/>.
/// <para>Composition: <c>$ref</c> (by the <c>$id</c> of a provided file, by a path relative to the referring file, and
/// <c>#/definitions/...</c> fragments), <c>allOf</c> and <c>meta:extends</c> are resolved within the provided files.
/// A <c>$ref</c> that cannot be resolved is an error naming the reference and the file (a missing <c>meta:extends</c>
/// target is only a warning: it is metadata). A <c>$ref</c>/<c>allOf</c> cycle is an error; a type that contains itself
/// through a property (a recursive data type) is cut at the repetition with a warning. References to the JSON-LD
/// extensibility definition (<c>.../common/extensible#/definitions/@context</c>) hold no data fields and are skipped.</para>
/// <para>Types: string (format <c>date</c> -> date, <c>date-time</c> -> datetime), integer, number, boolean; array with
/// <c>items</c> -> array + itemType; object with <c>properties</c> -> nested dotted paths; object with
/// <c>additionalProperties</c> (or <c>meta:xdmType: map</c>) -> map + valueType. Property names become path segments by
/// <see cref="XdmNames.ToSegment"/> (<c>xdm:person</c> -> <c>person</c>). A property is required when its enclosing object
/// lists it in <c>required</c>.</para>
/// <para>Identities: a field annotated <c>"xdm:identity"</c> (or <c>"x-identity"</c>) <c>{ "namespace": "Email", "primary": true }</c>,
/// or an identity descriptor (<c>meta:descriptors</c> entry with <c>"@type": "xdm:descriptorIdentity"</c>,
/// <c>xdm:namespace</c>, <c>xdm:isPrimary</c> and, at schema level, <c>xdm:sourceProperty</c> such as
/// <c>/xdm:personalEmail/xdm:address</c>) becomes the field's <see cref="IdentityMapping"/>. An <c>identityMap</c> property
/// becomes a field <c>identityMap</c> of type map with valueType array (keys are namespace codes, values arrays of
/// <c>{ id, primary, authenticatedState }</c>); it is listed in <see cref="XdmImportResult.IdentityMapFields"/> and reported,
/// since stitching takes identities from it per record rather than from typed fields.</para>
/// <para>Class: event when the composition includes the XDM time-series behaviour or ExperienceEvent class (or
/// <c>meta:class</c>/<c>x-class</c> says so), else profile. For events, <c>timestamp</c> and <c>eventType</c> are made required
/// (and added when absent), with a warning.</para>
/// </summary>
public static class XdmImporter
{
    /// <summary>Imports the entry schema of <paramref name="source"/>. Never throws for bad input: problems are in the result.</summary>
    public static XdmImportResult Import(XdmSource source, XdmImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new XdmImportRun(source, options ?? new XdmImportOptions()).Execute();
    }
}
