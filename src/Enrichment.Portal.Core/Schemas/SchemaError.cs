namespace Enrichment.Portal.Core.Schemas;

/// <summary>One broken schema rule.</summary>
/// <param name="Field">The field path the error is about, or null when it concerns the whole schema.</param>
/// <param name="Code">A stable upper-case code (e.g. <c>PATH_SYNTAX</c>, <c>PRIMARY_IDENTITY_MULTIPLE</c>) for API <c>errors</c> and tests.</param>
/// <param name="Message">A sentence for people.</param>
public sealed record SchemaError(string? Field, string Code, string Message);

/// <summary>Stable codes of <see cref="SchemaError"/>.</summary>
public static class SchemaErrorCodes
{
    public const string SchemaName = "SCHEMA_NAME";
    public const string PathEmpty = "PATH_EMPTY";
    public const string PathSyntax = "PATH_SYNTAX";
    public const string PathDuplicate = "PATH_DUPLICATE";
    public const string PathLeafAndParent = "PATH_LEAF_AND_PARENT";
    public const string ObjectNotAFieldType = "OBJECT_NOT_A_FIELD_TYPE";
    public const string ItemTypeMissing = "ITEM_TYPE_MISSING";
    public const string ValueTypeMissing = "VALUE_TYPE_MISSING";
    public const string ItemTypeNotAllowed = "ITEM_TYPE_NOT_ALLOWED";
    public const string ValueTypeNotAllowed = "VALUE_TYPE_NOT_ALLOWED";
    public const string EnumNotString = "ENUM_NOT_STRING";
    public const string EnumEmpty = "ENUM_EMPTY";
    public const string EnumDuplicate = "ENUM_DUPLICATE";
    public const string IdentityType = "IDENTITY_TYPE";
    public const string NamespaceUnknown = "NAMESPACE_UNKNOWN";
    public const string PrimaryIdentityMultiple = "PRIMARY_IDENTITY_MULTIPLE";
    public const string ReservedFieldMissing = "RESERVED_FIELD_MISSING";
    public const string ReservedFieldType = "RESERVED_FIELD_TYPE";
    public const string ReservedFieldOptional = "RESERVED_FIELD_OPTIONAL";
    public const string TooManyFields = "TOO_MANY_FIELDS";
}
