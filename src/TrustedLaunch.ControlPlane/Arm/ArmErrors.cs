namespace TrustedLaunch.ControlPlane.Arm;

/// <summary>
/// The ARM errors the control plane answers outside the rules table, with Azure's codes and messages where Azure's
/// are known (quoted from ARM/Compute answers; docs/control-plane.md lists which strings are Azure's and which ours).
/// </summary>
public static class ArmErrors
{
    public const int BadRequest = 400;
    public const int NotFound = 404;
    public const int Conflict = 409;
    public const int PreconditionFailedStatus = 412;

    public static ArmFailure MissingApiVersion() => Fail(BadRequest, "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.");

    public static ArmFailure InvalidApiVersion(string apiVersion, IReadOnlyList<string> supported) => Fail(BadRequest, "InvalidApiVersionParameter",
        $"The api-version '{apiVersion}' is invalid. The supported versions are '{string.Join(",", supported)}'. Please see https://aka.ms/api-upgrade for more details.");

    public static ArmFailure NoRegisteredProviderFound(string location, string apiVersion, string type, IReadOnlyList<string> supported,
        IEnumerable<string> locations) =>
        Fail(BadRequest, "NoRegisteredProviderFound",
            $"No registered resource provider found for location '{location}' and API version '{apiVersion}' for type '{type}'. " +
            $"The supported api-versions are '{string.Join(", ", supported)}'. The supported locations are '{string.Join(", ", locations)}'.");

    public static ArmFailure InvalidRequestContent(string detail) => Fail(BadRequest, "InvalidRequestContent",
        $"The request content was invalid and could not be deserialized: '{detail}'.");

    public static ArmFailure LocationRequired() => Fail(BadRequest, "LocationRequired", "The location property is required for this definition.");

    public static ArmFailure LocationNotAvailable(string location, string type, IEnumerable<string> available) => Fail(BadRequest,
        "LocationNotAvailableForResourceType",
        $"The provided location '{location}' is not available for resource type '{type}'. List of available regions for the resource type is '{string.Join(",", available)}'.");

    public static ArmFailure InvalidResourceLocation(string name, string existingLocation, string resourceGroup, string requestedLocation) =>
        Fail(BadRequest, "InvalidResourceLocation",
            $"The resource '{name}' already exists in location '{existingLocation}' in resource group '{resourceGroup}'. " +
            $"A resource with the same name cannot be created in location '{requestedLocation}'. Please select a new resource name.");

    public static ArmFailure InvalidSubscriptionId(string subscriptionId) => Fail(BadRequest, "InvalidSubscriptionId",
        $"The provided subscription identifier '{subscriptionId}' is malformed or invalid.");

    public static ArmFailure SubscriptionNotFound(string subscriptionId) => Fail(NotFound, "SubscriptionNotFound",
        $"The subscription '{subscriptionId}' could not be found.");

    public static ArmFailure ResourceGroupNotFound(string resourceGroup) => Fail(NotFound, "ResourceGroupNotFound",
        $"Resource group '{resourceGroup}' could not be found.");

    public static ArmFailure ResourceGroupBeingDeleted(string resourceGroup) => Fail(Conflict, "ResourceGroupBeingDeleted",
        $"The resource group '{resourceGroup}' is in deprovisioning state and cannot perform this operation.");

    public static ArmFailure ResourceNotFound(string type, string name, string resourceGroup) => Fail(NotFound, "ResourceNotFound",
        $"The Resource '{type}/{name}' under resource group '{resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");

    public static ArmFailure OperationNotFound() => Fail(NotFound, "NotFound", "The entity was not found in this Azure location.");

    /// <summary>An <c>If-Match</c> / <c>If-None-Match</c> precondition that does not hold (Addendum.md ETag table).</summary>
    public static ArmFailure PreconditionFailed(string header) => Fail(PreconditionFailedStatus, "PreconditionFailed",
        $"The condition specified using HTTP conditional header(s) is not met ({header}).", target: header);

    /// <summary>The resource changed between our read and our write (a concurrent request won), or an operation is still running.</summary>
    public static ArmFailure AnotherOperationInProgress(string operationUri) => Fail(Conflict, "AnotherOperationInProgress",
        $"Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: {operationUri}.");

    public static ArmFailure OperationNotAllowed(string message, string? target = null) => Fail(Conflict, "OperationNotAllowed", message, target);

    public static ArmFailure MissingParameter(string parameter, string target) => Fail(BadRequest, "InvalidParameter",
        $"Required parameter '{parameter}' is missing (null).", target);

    public static ArmFailure InvalidParameter(string message, string target) => Fail(BadRequest, "InvalidParameter", message, target);

    /// <summary>The error of an operation a newer one replaced (Compute's wording).</summary>
    public static ArmErrorDetail OperationPreempted() => new()
    {
        Code = "OperationPreempted",
        Message = "Operation execution has been preempted by a more recent operation.",
    };

    /// <summary>No registered host has room for the VM (Compute's wording).</summary>
    public static ArmErrorDetail AllocationFailed() => new()
    {
        Code = "AllocationFailed",
        Message = "Allocation failed. We do not have sufficient capacity for the requested VM size in this region. " +
            "Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance",
    };

    public static ArmFailure Fail(int status, string code, string message, string? target = null) =>
        new(status, new ArmErrorDetail { Code = code, Message = message, Target = target });
}
