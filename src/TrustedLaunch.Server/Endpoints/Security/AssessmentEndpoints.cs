using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Scoring;
using TrustedLaunch.Server.Endpoints.Arm;
using TrustedLaunch.Server.Posture;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Posture.Views;

namespace TrustedLaunch.Server.Endpoints.Security;

/// <summary>
/// Microsoft.Security/assessments as extension resources of a VM (<c>{vmId}/providers/Microsoft.Security/assessments/{key}</c>),
/// listed per VM, resource group and subscription; the status history; the Secure Boot remediation; secure scores.
/// </summary>
internal static class AssessmentEndpoints
{
    private const string Vm = "/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}";
    private const string VmAssessments = Vm + "/providers/Microsoft.Security/assessments";

    public static void Map(RouteGroupBuilder arm)
    {
        arm.MapGet(VmAssessments, ListForVmAsync).Security(SecurityKind.Assessments).WithName("Assessments_ListForVm")
            .Produces<SecurityList<AssessmentResource>>();
        arm.MapGet(VmAssessments + "/{assessmentName}", GetAsync).Security(SecurityKind.Assessments).WithName("Assessments_Get").Produces<AssessmentResource>();
        arm.MapGet(VmAssessments + "/{assessmentName}/statusHistory", HistoryAsync).Security(SecurityKind.Assessments)
            .WithName("Assessments_StatusHistory").Produces<AssessmentHistoryResource>();
        arm.MapPost(VmAssessments + "/{assessmentName}/remediate", RemediateAsync).Security(SecurityKind.Assessments).WithName("Assessments_Remediate")
            .Produces<RemediationResource>(StatusCodes.Status202Accepted).Produces<ArmErrorResponse>(StatusCodes.Status409Conflict);
        arm.MapGet(VmAssessments + "/{assessmentName}/remediation", RemediationAsync).Security(SecurityKind.Assessments)
            .WithName("Assessments_Remediation").Produces<RemediationResource>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Security/assessments", ListAsync).Security(SecurityKind.Assessments)
            .WithName("Assessments_List").Produces<SecurityList<AssessmentResource>>();
        arm.MapGet("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Security/assessments", ListInGroupAsync)
            .Security(SecurityKind.Assessments).WithName("Assessments_ListInGroup").Produces<SecurityList<AssessmentResource>>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Security/secureScores", ScoresAsync).Security(SecurityKind.SecureScores)
            .WithName("SecureScores_List").Produces<SecurityList<SecureScoreResource>>();
        arm.MapGet("/{subscriptionId}/providers/Microsoft.Security/secureScores/{scoreName}", ScoreAsync).Security(SecurityKind.SecureScores)
            .WithName("SecureScores_Get").Produces<SecureScoreResource>();
        arm.MapGet("/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Security/secureScores", GroupScoresAsync)
            .Security(SecurityKind.SecureScores).WithName("SecureScores_ListInGroup").Produces<SecurityList<SecureScoreResource>>();
    }

    private static async Task<IResult> ListForVmAsync(string subscriptionId, string resourceGroupName, string vmName, [FromQuery(Name = "$expand")] string? expand,
        VirtualMachineService vms, SqlPostureStore store, CancellationToken cancellationToken)
    {
        ArmResult<VirtualMachineRecord> vm = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), cancellationToken);
        if (vm.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        if (Expand(expand) is IResult bad)
            return bad;
        IReadOnlyList<StoredAssessment> stored = await store.ListAssessmentsAsync(subscriptionId, resourceGroupName, vm.Value!.VmId, cancellationToken);
        return List(stored, Metadata(expand));
    }

    private static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string vmName, string assessmentName,
        [FromQuery(Name = "$expand")] string? expand, VirtualMachineService vms, SqlPostureStore store, CancellationToken cancellationToken)
    {
        (StoredAssessment? stored, IResult? problem) = await FindAsync(subscriptionId, resourceGroupName, vmName, assessmentName, expand, vms, store, cancellationToken);
        if (problem is not null)
            return problem;
        return Results.Json(SecurityViewMapper.Assessment(stored!, Metadata(expand)), PostureJson.Web.AssessmentResource);
    }

    private static async Task<IResult> HistoryAsync(string subscriptionId, string resourceGroupName, string vmName, string assessmentName,
        VirtualMachineService vms, SqlPostureStore store, CancellationToken cancellationToken)
    {
        (StoredAssessment? stored, IResult? problem) = await FindAsync(subscriptionId, resourceGroupName, vmName, assessmentName, null, vms, store, cancellationToken);
        if (problem is not null)
            return problem;
        IReadOnlyList<AssessmentHistoryEntry> history = await store.HistoryAsync(stored!.VmId, stored.Key, cancellationToken);
        return Results.Json(new AssessmentHistoryResource(SecurityViewMapper.AssessmentId(stored.ResourceId, stored.Key) + "/statusHistory",
            history.Select(SecurityViewMapper.History).ToArray()), PostureJson.Web.AssessmentHistoryResource);
    }

    private static async Task<IResult> RemediateAsync(string subscriptionId, string resourceGroupName, string vmName, string assessmentName,
        HttpContext context, SecureBootRemediation remediation, CancellationToken cancellationToken)
    {
        Recommendation? recommendation = Recommendations.Find(assessmentName);
        if (recommendation is null)
            return UnknownKey(assessmentName);
        if (!recommendation.Remediable || !SecureBootRemediation.Remediates(recommendation.Key))
            return ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status400BadRequest, "RemediationNotSupported",
                $"The platform cannot remediate '{recommendation.DisplayName}'; see its remediationDescription.", "assessmentName"));
        ArmResult<RemediationRecord> started = await remediation.StartAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), recommendation.Key,
            cancellationToken);
        if (started.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        context.Response.Headers.Location = ArmHttp.Absolute(context, $"{context.Request.Path.Value![..^"remediate".Length]}remediation?api-version={ArmHttp.ApiVersion(context)}");
        return Results.Json(SecurityViewMapper.Remediation(started.Value!), PostureJson.Web.RemediationResource, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> RemediationAsync(string subscriptionId, string resourceGroupName, string vmName, string assessmentName,
        VirtualMachineService vms, SqlPostureStore store, CancellationToken cancellationToken)
    {
        if (Recommendations.Find(assessmentName) is not Recommendation recommendation)
            return UnknownKey(assessmentName);
        ArmResult<VirtualMachineRecord> vm = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), cancellationToken);
        if (vm.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        RemediationRecord? record = await store.GetRemediationAsync(vm.Value!.VmId, recommendation.Key, cancellationToken);
        return record is null
            ? ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status404NotFound, "RemediationNotFound", $"No remediation of this assessment was started on '{vmName}'."))
            : Results.Json(SecurityViewMapper.Remediation(record), PostureJson.Web.RemediationResource);
    }

    private static async Task<IResult> ListAsync(string subscriptionId, [FromQuery(Name = "$expand")] string? expand, SqlPostureStore store,
        CancellationToken cancellationToken)
    {
        if (Expand(expand) is IResult bad)
            return bad;
        return List(await store.ListAssessmentsAsync(subscriptionId, null, null, cancellationToken), Metadata(expand));
    }

    private static async Task<IResult> ListInGroupAsync(string subscriptionId, string resourceGroupName, [FromQuery(Name = "$expand")] string? expand,
        ResourceGroupService groups, SqlPostureStore store, CancellationToken cancellationToken)
    {
        if (Expand(expand) is IResult bad)
            return bad;
        ArmResult<ResourceGroupRecord> group = await groups.GetAsync(subscriptionId, resourceGroupName, cancellationToken);
        if (group.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        return List(await store.ListAssessmentsAsync(subscriptionId, resourceGroupName, null, cancellationToken), Metadata(expand));
    }

    private static async Task<IResult> ScoresAsync(string subscriptionId, SqlPostureStore store, CancellationToken cancellationToken) =>
        Results.Json(new SecurityList<SecureScoreResource>([await ScoreOfAsync($"/subscriptions/{subscriptionId}", subscriptionId, null, store, cancellationToken)]),
            PostureJson.Web.SecurityListSecureScoreResource);

    private static async Task<IResult> ScoreAsync(string subscriptionId, string scoreName, SqlPostureStore store, CancellationToken cancellationToken) =>
        !string.Equals(scoreName, "ascScore", StringComparison.OrdinalIgnoreCase)
            ? SecurityRoutes.Invalid($"The secure score '{scoreName}' does not exist: the one score is 'ascScore'.", "secureScoreName")
            : Results.Json(await ScoreOfAsync($"/subscriptions/{subscriptionId}", subscriptionId, null, store, cancellationToken), PostureJson.Web.SecureScoreResource);

    private static async Task<IResult> GroupScoresAsync(string subscriptionId, string resourceGroupName, ResourceGroupService groups, SqlPostureStore store,
        CancellationToken cancellationToken)
    {
        ArmResult<ResourceGroupRecord> group = await groups.GetAsync(subscriptionId, resourceGroupName, cancellationToken);
        if (group.Failure is ArmFailure failure)
            return ArmHttp.Error(failure);
        SecureScoreResource score = await ScoreOfAsync($"/subscriptions/{subscriptionId}/resourceGroups/{group.Value!.Name}", subscriptionId, resourceGroupName,
            store, cancellationToken);
        return Results.Json(new SecurityList<SecureScoreResource>([score]), PostureJson.Web.SecurityListSecureScoreResource);
    }

    private static async Task<SecureScoreResource> ScoreOfAsync(string scope, string subscriptionId, string? group, SqlPostureStore store,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredAssessment> assessments = await store.ListAssessmentsAsync(subscriptionId, group, null, cancellationToken);
        SecureScoreValue value = SecureScore.Compute(assessments.Select(a => (Recommendations.Find(a.Key)?.Severity ?? Severity.Low, a.Status)));
        return SecurityViewMapper.Score(scope, value);
    }

    private static async Task<(StoredAssessment?, IResult?)> FindAsync(string subscriptionId, string resourceGroupName, string vmName, string key,
        string? expand, VirtualMachineService vms, SqlPostureStore store, CancellationToken cancellationToken)
    {
        if (Recommendations.Find(key) is not Recommendation recommendation)
            return (null, UnknownKey(key));
        if (Expand(expand) is IResult bad)
            return (null, bad);
        ArmResult<VirtualMachineRecord> vm = await vms.GetAsync(new VirtualMachineKey(subscriptionId, resourceGroupName, vmName), cancellationToken);
        if (vm.Failure is ArmFailure failure)
            return (null, ArmHttp.Error(failure));
        StoredAssessment? stored = (await store.ListAssessmentsAsync(subscriptionId, resourceGroupName, vm.Value!.VmId, cancellationToken))
            .FirstOrDefault(a => a.Key == recommendation.Key);
        return stored is null
            ? (null, ArmHttp.Error(ArmErrors.Fail(StatusCodes.Status404NotFound, "AssessmentNotFound",
                $"The assessment '{recommendation.Key}' of '{vmName}' has not been evaluated yet; it is within seconds of the VM's creation.")))
            : (stored, null);
    }

    private static IResult List(IReadOnlyList<StoredAssessment> stored, bool metadata) =>
        Results.Json(new SecurityList<AssessmentResource>(stored.Where(a => Recommendations.Find(a.Key) is not null)
            .Select(a => SecurityViewMapper.Assessment(a, metadata)).ToArray()), PostureJson.Web.SecurityListAssessmentResource);

    private static IResult UnknownKey(string key) => SecurityRoutes.Invalid(
        $"The assessment key '{key}' is not one this platform evaluates: {string.Join(", ", Recommendations.All.Select(r => $"{r.Key} ({r.DisplayName})"))}.",
        "assessmentName");

    private static IResult? Expand(string? expand) =>
        expand is null or "" || string.Equals(expand, "metadata", StringComparison.OrdinalIgnoreCase) || string.Equals(expand, "links", StringComparison.OrdinalIgnoreCase)
            ? null
            : SecurityRoutes.Invalid($"$expand '{expand}' is not valid: links or metadata.", "$expand");

    private static bool Metadata(string? expand) => string.Equals(expand, "metadata", StringComparison.OrdinalIgnoreCase);
}
