using TrustedLaunch.ArmTemplates;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>ARM's deployment errors (Microsoft.Resources), with Azure's codes and wording where known.</summary>
public static class DeploymentErrors
{
    /// <summary>The envelope of a deployment one of whose resources failed (fact sheet §2.1, verbatim).</summary>
    public static ArmErrorDetail DeploymentFailed(IReadOnlyList<ArmErrorDetail> inner) => new()
    {
        Code = "DeploymentFailed",
        Message = "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
        Details = inner,
    };

    public static ArmFailure InvalidTemplate(ArmTemplateException error) => ArmErrors.Fail(ArmErrors.BadRequest, error.Code,
        $"Deployment template validation failed: '{error.Message}'.", error.Target);

    public static ArmFailure UnsupportedResourceTypes(IReadOnlyList<(string Type, string Target)> unknown, IEnumerable<string> supported)
    {
        string types = string.Join(", ", supported);
        return ArmFailure.FromViolations(ArmErrors.BadRequest, unknown.Select(u => new ArmErrorDetail
        {
            Code = "InvalidResourceType",
            Message = $"The resource type '{u.Type}' is not supported by this platform, so the template cannot be deployed. Supported types: {types}.",
            Target = u.Target,
        }).ToArray());
    }

    public static ArmFailure ValidationFailed(string name, string correlationId, IReadOnlyList<ArmErrorDetail> inner) =>
        new(ArmErrors.BadRequest, new ArmErrorDetail
        {
            Code = "InvalidTemplateDeployment",
            Message = $"The template deployment '{name}' is not valid according to the validation procedure. The tracking id is '{correlationId}'. See inner errors for details.",
            Details = inner,
        });

    public static ArmFailure DeploymentActive(string name, DateTimeOffset since) => ArmErrors.Fail(ArmErrors.Conflict, "DeploymentActive",
        $"Unable to edit or replace deployment '{name}': previous deployment from '{since:O}' is still active (state: Running). Please see https://aka.ms/arm-deploy for usage details.");

    public static ArmFailure DeploymentNotFound(string name, string resourceGroup) => ArmErrors.Fail(ArmErrors.NotFound, "DeploymentNotFound",
        $"Deployment '{name}' could not be found under resource group '{resourceGroup}'.");

    public static ArmFailure InvalidDeploymentName(string name) => ArmErrors.Fail(ArmErrors.BadRequest, "InvalidDeploymentName",
        $"The deployment name '{name}' is invalid: it must be 1 to 64 letters, digits, '-', '_', '.', '(' or ')'.", "name");

    public static ArmFailure InvalidRequest(string message, string target) => ArmErrors.Fail(ArmErrors.BadRequest, "InvalidRequestContent", message, target);

    /// <summary>A refusal of a resource provider, as the inner error of <c>DeploymentFailed</c>: its own error and target.</summary>
    public static ArmErrorDetail Inner(ArmFailure failure, string resourceId) => failure.Error with { Target = failure.Error.Target ?? resourceId };
}
