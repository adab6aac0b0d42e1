using System.Text.Json;

namespace Enrichment.Portal.Core.Schemas.Xdm;

// Composition of an XDM schema: allOf / $ref / meta:extends gathered across the source's files, with cycle and depth checks.
internal sealed partial class XdmImportRun
{
    // ---- composition --------------------------------------------------------------------------------------------

    private void Gather(Loc loc, Acc acc, List<string> stack)
    {
        var node = loc.Node;
        if (node.ValueKind is JsonValueKind.True or JsonValueKind.False) return;
        if (node.ValueKind != JsonValueKind.Object)
        {
            Aggregate("A schema node that is not an object was ignored");
            return;
        }
        if (stack.Contains(loc.Key))
        {
            Error(new("REF_CYCLE", $"The composition loops: {string.Join(" -> ", stack.SkipWhile(s => s != loc.Key).Append(loc.Key))}.", loc.File));
            return;
        }
        if (!acc.Seen.Add(loc.Key)) return; // the same definition composed twice (allOf + meta:extends): once is enough
        if (stack.Count >= MaxGatherDepth)
        {
            Error(new("TOO_DEEP", $"The composition is more than {MaxGatherDepth} references deep at '{loc.File}#{loc.Pointer}'.", loc.File));
            return;
        }
        stack.Add(loc.Key);
        if (loc.Pointer.Length == 0 && XdmJson.Str(node, "$id") is { } ownId) acc.DocIds.Add(XdmJson.TrimId(ownId));

        foreach (var p in node.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "$ref":
                    if (v.ValueKind == JsonValueKind.String) FollowRef(v.GetString()!, loc, acc, stack, required: true);
                    break;
                case "allOf":
                    if (v.ValueKind == JsonValueKind.Array)
                    {
                        var i = 0;
                        foreach (var item in v.EnumerateArray())
                            Gather(new Loc(loc.File, item, $"{loc.Pointer}/allOf/{i++}"), acc, stack);
                    }
                    break;
                case "meta:extends":
                    if (v.ValueKind == JsonValueKind.Array)
                        foreach (var item in v.EnumerateArray())
                            if (item.ValueKind == JsonValueKind.String) FollowRef(item.GetString()!, loc, acc, stack, required: false);
                    break;
                case "properties":
                    if (v.ValueKind == JsonValueKind.Object)
                        foreach (var prop in v.EnumerateObject())
                        {
                            if (!acc.Properties.TryGetValue(prop.Name, out var list))
                            {
                                acc.Properties[prop.Name] = list = [];
                                acc.PropertyOrder.Add(prop.Name);
                            }
                            list.Add(new Loc(loc.File, prop.Value, $"{loc.Pointer}/properties/{Escape(prop.Name)}"));
                        }
                    break;
                case "required":
                    if (v.ValueKind == JsonValueKind.Array)
                        foreach (var r in v.EnumerateArray())
                            if (r.ValueKind == JsonValueKind.String) acc.Required.Add(r.GetString()!);
                    break;
                case "type":
                    if (v.ValueKind == JsonValueKind.String) acc.Types.Add(v.GetString()!);
                    else if (v.ValueKind == JsonValueKind.Array)
                        foreach (var t in v.EnumerateArray())
                            if (t.ValueKind == JsonValueKind.String) acc.Types.Add(t.GetString()!);
                    break;
                case "format":
                    acc.Format ??= v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                    break;
                case "description":
                    acc.Description ??= v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0 ? v.GetString() : null;
                    break;
                case "enum":
                    if (v.ValueKind == JsonValueKind.Array)
                    {
                        var values = new List<string>();
                        foreach (var e in v.EnumerateArray())
                        {
                            if (e.ValueKind == JsonValueKind.String) values.Add(e.GetString()!);
                            else Aggregate("Non-string enum values were dropped (only string fields have enums here)");
                        }
                        acc.Enum = acc.Enum is null ? values : acc.Enum.Intersect(values).ToList();
                    }
                    break;
                case "items":
                    if (v.ValueKind == JsonValueKind.Object) acc.Items ??= new Loc(loc.File, v, loc.Pointer + "/items");
                    else if (v.ValueKind == JsonValueKind.Array) Aggregate("Tuple arrays ('items' as a list) are not supported; item types were left open");
                    break;
                case "additionalProperties":
                    if (v.ValueKind == JsonValueKind.Object) acc.AdditionalProperties ??= new Loc(loc.File, v, loc.Pointer + "/additionalProperties");
                    break;
                case "meta:xdmType":
                    acc.XdmType ??= v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                    break;
                case "xdm:identity":
                case "x-identity":
                    if (ReadIdentity(v) is { } id) acc.Identity = id;
                    else Aggregate($"An '{p.Name}' annotation without a namespace was ignored");
                    break;
                case "meta:descriptors":
                    if (v.ValueKind == JsonValueKind.Array)
                        foreach (var d in v.EnumerateArray()) acc.Descriptors.Add(d.Clone());
                    break;
                default:
                    if (p.Name is "meta:class" or "x-class" && v.ValueKind == JsonValueKind.String) acc.ClassHints.Add(v.GetString()!);
                    if (Ignored.Contains(p.Name)) break;
                    if (Constraints.Contains(p.Name)) Aggregate($"The constraint '{p.Name}' is not enforced by this portal and was not imported");
                    else if (Unsupported.Contains(p.Name)) Aggregate($"The JSON Schema keyword '{p.Name}' is not supported and was not imported");
                    else Aggregate($"The unknown keyword '{p.Name}' was not imported");
                    break;
            }
        }
        stack.RemoveAt(stack.Count - 1);
    }

    private void FollowRef(string reference, Loc from, Acc acc, List<string> stack, bool required)
    {
        var hash = reference.IndexOf('#');
        var basePart = hash < 0 ? reference : reference[..hash];
        var fragment = hash < 0 ? "" : reference[(hash + 1)..];
        // JSON-LD extensibility (@context) declares no data fields; it is composed into almost every XDM component.
        if (XdmJson.TrimId(basePart) == ExtensibleId || fragment == "/definitions/@context") return;

        var target = Resolve(basePart, fragment, from, out var problem);
        if (target is null)
        {
            if (required)
                Error(new("BROKEN_REF", $"The reference '{reference}' in '{from.File}' cannot be resolved: {problem}", from.File, reference));
            else
                _warnings.Add($"meta:extends '{reference}' in '{from.File}' is not among the provided files and was not composed: {problem}");
            return;
        }
        acc.RefTargets.Add(target.Value.Key);
        Gather(target.Value, acc, stack);
    }

    private Loc? Resolve(string basePart, string fragment, Loc from, out string problem)
    {
        problem = "";
        string? file;
        if (basePart.Length == 0) file = from.File;
        else if (_byId.TryGetValue(XdmJson.TrimId(basePart), out var byId)) file = byId;
        else
        {
            file = null;
            if (!basePart.Contains("://", StringComparison.Ordinal))
            {
                var dir = Path.GetDirectoryName(from.File)?.Replace('\\', '/') ?? "";
                var candidate = XdmSource.NormalizePath(dir.Length == 0 ? basePart : dir + "/" + basePart);
                if (_docs.ContainsKey(candidate) || _invalid.ContainsKey(candidate)) file = candidate;
            }
            if (file is null && _docs.TryGetValue(from.File, out var fromDoc) && XdmJson.Str(fromDoc.RootElement, "$id") is { } baseId
                && Uri.TryCreate(baseId, UriKind.Absolute, out var baseUri) && Uri.TryCreate(baseUri, basePart, out var abs)
                && _byId.TryGetValue(XdmJson.TrimId(abs.ToString()), out var rel))
                file = rel;
        }
        if (file is null)
        {
            problem = $"no provided file has the $id or the path '{basePart}'.";
            return null;
        }
        if (_invalid.TryGetValue(file, out var invalid))
        {
            problem = $"the file '{file}' is not valid JSON ({invalid}).";
            return null;
        }
        var node = _docs[file].RootElement;
        if (fragment.Length == 0) return new Loc(file, node, "");
        if (!fragment.StartsWith('/'))
        {
            problem = $"only JSON pointer fragments ('#/definitions/...') are supported, not '#{fragment}'.";
            return null;
        }
        foreach (var raw in fragment[1..].Split('/'))
        {
            var seg = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(seg, out var child)) node = child;
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(seg, out var i) && i >= 0 && i < node.GetArrayLength()) node = node[i];
            else
            {
                problem = $"the file '{file}' has no '#{fragment}'.";
                return null;
            }
        }
        return new Loc(file, node, fragment);
    }

    private static string Escape(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static IdentityMapping? ReadIdentity(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object) return null;
        var ns = XdmJson.Str(v, "namespace") ?? XdmJson.Str(v, "xdm:namespace");
        if (string.IsNullOrWhiteSpace(ns)) return null;
        var primary = (v.TryGetProperty("primary", out var p) || v.TryGetProperty("xdm:isPrimary", out p)) && p.ValueKind == JsonValueKind.True;
        return new IdentityMapping(ns, primary);
    }
}
