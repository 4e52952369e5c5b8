using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>
/// <c>Microsoft.Resources/deployments</c> at resource group scope, Incremental mode: a PUT validates the template
/// completely (syntax, functions, parameters, resource types, what each type's handler can check) before anything is
/// created, stores the deployment and hands it to the <see cref="DeploymentRunner"/>; GET and the operations list
/// report its progress as ARM does.
/// </summary>
public sealed class DeploymentService(
    IDeploymentStore deployments,
    IResourceGroupStore groups,
    ISubscriptionStore subscriptions,
    ResourceTypeRegistry registry,
    DeploymentRunner runner,
    TimeProvider time)
{
    /// <summary>PUT: 201 with the accepted deployment, or why the template cannot be deployed (nothing created).</summary>
    public async Task<ArmResult<DeploymentRecord>> PutAsync(string subscriptionId, string resourceGroup, string name, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        ArmResult<PreparedDeployment> prepared = await PrepareAsync(subscriptionId, resourceGroup, name, body, replacing: true, cancellationToken);
        if (prepared.Failure is ArmFailure refused)
            return refused;
        (DeploymentRecord deployment, DeploymentPlan plan) = (prepared.Value!.Record, prepared.Value.Plan);
        switch (await deployments.StartAsync(deployment, cancellationToken))
        {
            case WriteOutcome.ResourceGroupMissing:
                return ArmErrors.ResourceGroupNotFound(deployment.ResourceGroup);
            case WriteOutcome.ResourceGroupDeleting:
                return ArmErrors.ResourceGroupBeingDeleted(deployment.ResourceGroup);
        }

        _ = runner.Start(deployment, plan);
        return ArmResult.Ok(deployment);
    }

    /// <summary>
    /// POST …/validate (Deployments_Validate): everything a PUT checks before it creates anything, and nothing stored. The
    /// answer is the deployment as it would be accepted, with <c>validatedResources</c>; a refusal is the PUT's.
    /// </summary>
    public async Task<ArmResult<JsonObject>> ValidateAsync(string subscriptionId, string resourceGroup, string name, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        ArmResult<PreparedDeployment> prepared = await PrepareAsync(subscriptionId, resourceGroup, name, body, replacing: false, cancellationToken);
        if (prepared.Failure is ArmFailure refused)
            return refused;
        JsonObject answer = DeploymentViews.Resource(prepared.Value!.Record with { ProvisioningState = DeploymentStates.Succeeded });
        answer["properties"]!["validatedResources"] = new JsonArray(prepared.Value.Plan.Resources.Where(r => r.Condition)
            .Select(r => (JsonNode?)new JsonObject { ["id"] = r.Id }).ToArray());
        return ArmResult.Ok(answer);
    }

    /// <summary>
    /// POST …/whatIf (Deployments_WhatIf): validated as a PUT is, then each resource compared with what exists now
    /// (<see cref="DeploymentWhatIf"/>); nothing is changed.
    /// </summary>
    public async Task<ArmResult<JsonObject>> WhatIfAsync(string subscriptionId, string resourceGroup, string name, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        ArmResult<PreparedDeployment> prepared = await PrepareAsync(subscriptionId, resourceGroup, name, body, replacing: false, cancellationToken);
        if (prepared.Failure is ArmFailure refused)
            return refused;
        DeploymentPlan plan = prepared.Value!.Plan;
        var current = new Dictionary<string, JsonObject>(StringComparer.OrdinalIgnoreCase);
        PlannedResource[] deployed = plan.Resources.Where(r => r.Condition).ToArray();
        foreach (PlannedResource resource in deployed)
        {
            if (await registry.Find(resource.Type)!.GetStateAsync(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, resource.Name, cancellationToken) is JsonObject state)
                current[resource.Id] = state;
        }

        var resolver = new ExistingResources(current);
        var changes = new List<ResourceChange>();
        foreach (PlannedResource resource in deployed)
        {
            JsonObject? declared = null;
            try
            {
                declared = plan.EvaluateResource(resource, resolver);
            }
            catch (ArmTemplateException)
            {
                // reference() of a resource this deployment would create first: compared only once it exists.
            }

            JsonObject? comparable = declared is null ? null : registry.Find(resource.Type)!.ComparableBody(declared);
            changes.Add(DeploymentWhatIf.Compare(resource.Id, current.GetValueOrDefault(resource.Id), declared, comparable));
        }

        // The group's resources the template does not name: Complete mode deletes them, Incremental leaves them (ARM's Ignore).
        var named = plan.Resources.Select(r => r.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        bool complete = prepared.Value.Record.Mode == DeploymentModes.Complete;
        foreach (IResourceTypeHandler handler in registry.InDeleteOrder)
        {
            foreach (string other in await handler.ListNamesAsync(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, cancellationToken))
            {
                string id = TrustedLaunch.ArmTemplates.ResourceIds.InGroup(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, handler.ResourceType, other);
                if (!named.Contains(id))
                {
                    changes.Add(complete
                        ? new ResourceChange(id, WhatIfChangeTypes.Delete, await handler.GetStateAsync(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, other, cancellationToken), null, [])
                        : new ResourceChange(id, WhatIfChangeTypes.Ignore, null, null, []));
                }
            }
        }

        return ArmResult.Ok(DeploymentWhatIf.Result(changes));
    }

    // Everything a deployment is checked for before anything exists: names, group, body, template, types, each handler's
    // refusals. replacing: a PUT may not replace a deployment that still runs (validate and what-if change nothing).
    private async Task<ArmResult<PreparedDeployment>> PrepareAsync(string subscriptionId, string resourceGroup, string name, ReadOnlyMemory<byte> body,
        bool replacing, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(resourceGroup) is ArmFailure badGroup)
            return badGroup;
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '(' or ')'))
            return DeploymentErrors.InvalidDeploymentName(name);
        ResourceGroupRecord? group = await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken);
        if (group is null)
            return ArmErrors.ResourceGroupNotFound(resourceGroup);
        if (group.State == ResourceGroupState.Deleting)
            return ArmErrors.ResourceGroupBeingDeleted(group.Name);
        if (replacing && await deployments.GetAsync(subscriptionId, resourceGroup, name, cancellationToken) is { IsTerminal: false } previous)
            return DeploymentErrors.DeploymentActive(name, previous.StartTime);

        ArmResult<DeploymentRequest> request = DeploymentRequest.Read(body.Span);
        if (request.Failure is ArmFailure malformed)
            return malformed;
        SubscriptionRecord? subscription = await subscriptions.GetAsync(subscriptionId, cancellationToken);
        var scope = new DeploymentScope
        {
            SubscriptionId = subscriptionId,
            SubscriptionDisplayName = subscription?.DisplayName ?? "",
            ResourceGroup = group.Name,
            Location = group.Location,
            ResourceGroupTags = group.Tags,
            DeploymentName = name,
        };
        DeploymentPlan plan;
        try
        {
            plan = DeploymentPlan.Create(ArmTemplate.FromJson(request.Value!.Template), request.Value.Parameters, scope);
        }
        catch (ArmTemplateException e)
        {
            return DeploymentErrors.InvalidTemplate(e);
        }

        var unknown = plan.Resources.Where(r => registry.Find(r.Type) is null).Select(r => (r.Type, r.Target)).ToArray();
        if (unknown.Length > 0)
            return DeploymentErrors.UnsupportedResourceTypes(unknown, registry.Types);

        string correlationId = Guid.NewGuid().ToString();
        IReadOnlyList<ArmErrorDetail> refusals = await PreflightAsync(plan, cancellationToken);
        if (refusals.Count > 0)
            return DeploymentErrors.ValidationFailed(name, correlationId, refusals);

        DateTimeOffset now = time.GetUtcNow();
        return ArmResult.Ok(new PreparedDeployment(new DeploymentRecord
        {
            SubscriptionId = subscriptionId,
            ResourceGroup = group.Name,
            Name = name,
            ProvisioningState = DeploymentStates.Accepted,
            CorrelationId = correlationId,
            StartTime = now,
            Timestamp = now,
            TemplateHash = TemplateHash(request.Value.Template),
            Mode = request.Value.Mode,
            ParametersJson = plan.ParametersForDisplay().ToJsonString(),
            Operations = [],
        }, plan));
    }

    public async Task<ArmResult<DeploymentRecord>> GetAsync(string subscriptionId, string resourceGroup, string name, CancellationToken cancellationToken)
    {
        if (ArmNames.CheckResourceGroup(resourceGroup) is ArmFailure badGroup)
            return badGroup;
        DeploymentRecord? found = await deployments.GetAsync(subscriptionId, resourceGroup, name, cancellationToken);
        if (found is not null)
            return ArmResult.Ok(found);
        return await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken) is null
            ? ArmErrors.ResourceGroupNotFound(resourceGroup)
            : DeploymentErrors.DeploymentNotFound(name, resourceGroup);
    }

    public async Task<ArmResult<IReadOnlyList<DeploymentRecord>>> ListAsync(string subscriptionId, string resourceGroup, CancellationToken cancellationToken)
    {
        if (await groups.GetAsync(subscriptionId, resourceGroup, cancellationToken) is null)
            return ArmErrors.ResourceGroupNotFound(resourceGroup);
        return ArmResult.Ok(await deployments.ListAsync(subscriptionId, resourceGroup, cancellationToken));
    }

    /// <summary>At start-up: deployments a previous process was running can no longer finish; they fail, saying why.</summary>
    public async Task FailInterruptedAsync(CancellationToken cancellationToken)
    {
        foreach (DeploymentRecord deployment in await deployments.ListActiveAsync(cancellationToken))
        {
            await deployments.UpdateAsync(deployment with
            {
                ProvisioningState = DeploymentStates.Failed,
                Timestamp = time.GetUtcNow(),
                Error = new ArmErrorDetail
                {
                    Code = "DeploymentInterrupted",
                    Message = "The service restarted while the deployment ran; deploy the template again (incremental: what was created is kept).",
                },
            }, cancellationToken);
        }
    }

    // What each resource's handler can refuse before anything exists (an image no catalog entry maps). Bodies that
    // reference() other resources cannot be evaluated yet; their providers judge them when their turn comes.
    private async Task<IReadOnlyList<ArmErrorDetail>> PreflightAsync(DeploymentPlan plan, CancellationToken cancellationToken)
    {
        var refusals = new List<ArmErrorDetail>();
        foreach (PlannedResource resource in plan.Resources.Where(r => r.Condition))
        {
            JsonObject body;
            try
            {
                body = plan.EvaluateResource(resource, NothingDeployed.Instance);
            }
            catch (ArmTemplateException)
            {
                continue;
            }

            IResourceTypeHandler handler = registry.Find(resource.Type)!;
            var deployment = new ResourceDeployment(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, resource.Type, resource.Name, resource.ApiVersion, body);
            if (await handler.ValidateAsync(deployment, cancellationToken) is ArmErrorDetail refusal)
                refusals.Add(refusal with { Target = refusal.Target ?? resource.Id });
        }

        return refusals;
    }

    private static string TemplateHash(JsonObject template)
    {
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(template.ToJsonString()));
        return BitConverter.ToUInt64(digest, 0).ToString(CultureInfo.InvariantCulture);
    }

    private sealed class NothingDeployed : IReferenceResolver
    {
        public static readonly NothingDeployed Instance = new();

        public JsonObject? Resolve(string resourceId, string? apiVersion) => null;
    }

    private sealed class ExistingResources(Dictionary<string, JsonObject> states) : IReferenceResolver
    {
        public JsonObject? Resolve(string resourceId, string? apiVersion) => states.GetValueOrDefault(resourceId);
    }

    private sealed record PreparedDeployment(DeploymentRecord Record, DeploymentPlan Plan);
}

/// <summary>The body of a deployment PUT: <c>properties.template</c>, <c>properties.parameters</c> (<c>{name: {value}}</c>), <c>properties.mode</c>.</summary>
internal sealed record DeploymentRequest(JsonObject Template, IReadOnlyDictionary<string, JsonNode?> Parameters, string Mode)
{
    public static ArmResult<DeploymentRequest> Read(ReadOnlySpan<byte> body)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException e)
        {
            return ArmErrors.InvalidRequestContent(e.Message);
        }

        if (root?["properties"] is not JsonObject properties)
            return DeploymentErrors.InvalidRequest("The deployment needs a 'properties' object with the template.", "properties");
        if (Member(properties, "templateLink") is not null)
            return DeploymentErrors.InvalidRequest("templateLink is not supported: send the template inline in properties.template (tl deployment group create --template-file reads a local file).", "properties.templateLink");
        if (Member(properties, "parametersLink") is not null)
            return DeploymentErrors.InvalidRequest("parametersLink is not supported: send the parameters inline in properties.parameters.", "properties.parametersLink");
        string mode = Member(properties, "mode")?.GetValueKind() == JsonValueKind.String ? Member(properties, "mode")!.GetValue<string>() : "";
        if (!mode.Equals(DeploymentModes.Incremental, StringComparison.OrdinalIgnoreCase) && !mode.Equals(DeploymentModes.Complete, StringComparison.OrdinalIgnoreCase))
            return DeploymentErrors.InvalidRequest($"The deployment mode '{mode}' is not valid: use 'Incremental' or 'Complete'.", "properties.mode");

        if (Member(properties, "template") is not JsonObject template)
            return DeploymentErrors.InvalidRequest("The deployment needs the template as an object in properties.template.", "properties.template");
        var parameters = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        if (Member(properties, "parameters") is JsonObject given)
        {
            foreach ((string name, JsonNode? entry) in given)
            {
                if (entry is JsonObject wrapped && wrapped.ContainsKey("reference"))
                    return DeploymentErrors.InvalidRequest($"The parameter '{name}' is a Key Vault reference, which this platform cannot resolve: give its value.", $"properties.parameters.{name}");
                if (entry is not JsonObject withValue || !withValue.TryGetPropertyValue("value", out JsonNode? value))
                    return DeploymentErrors.InvalidRequest($"The parameter '{name}' must be an object with a 'value'.", $"properties.parameters.{name}");
                parameters[name] = value?.DeepClone();
            }
        }

        return ArmResult.Ok(new DeploymentRequest((JsonObject)template.DeepClone(), parameters,
            mode.Equals(DeploymentModes.Complete, StringComparison.OrdinalIgnoreCase) ? DeploymentModes.Complete : DeploymentModes.Incremental));
    }

    private static JsonNode? Member(JsonObject obj, string name) =>
        obj.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
}
