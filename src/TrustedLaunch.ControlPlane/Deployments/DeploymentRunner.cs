using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>
/// Runs accepted deployments in the background: wave after wave of the plan, each wave's resources in parallel, each
/// through its type's handler. A failed resource stops the deployment after its wave, which then fails with ARM's
/// <c>DeploymentFailed</c> envelope carrying every resource's error; otherwise the outputs are evaluated and it succeeds.
/// Every change of state is stored at once, so GET shows progress.
/// </summary>
public sealed class DeploymentRunner(IDeploymentStore deployments, ResourceTypeRegistry registry, TimeProvider time) : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Starts <paramref name="deployment"/>; the returned task completes when it is terminal (tests wait on it).</summary>
    public Task Start(DeploymentRecord deployment, DeploymentPlan plan)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(plan);
        string key = $"{deployment.SubscriptionId}/{deployment.ResourceGroup}/{deployment.Name}";
        Task run = Task.Run(() => RunAsync(deployment, plan, _stopping.Token));
        _running[key] = run;
        _ = run.ContinueWith(_ => _running.TryRemove(new KeyValuePair<string, Task>(key, run)), TaskScheduler.Default);
        return run;
    }

    /// <summary>Stops running deployments (service shutdown); they are failed as interrupted at the next start.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            // What did not finish is failed as interrupted when the service starts again.
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync(DeploymentRecord deployment, DeploymentPlan plan, CancellationToken cancellationToken)
    {
        using var progress = new Progress(deployments, deployment with { ProvisioningState = DeploymentStates.Running, Timestamp = time.GetUtcNow() });
        await progress.SaveAsync(cancellationToken);
        var states = new DeployedStates();
        try
        {
            foreach (IReadOnlyList<PlannedResource> wave in plan.Waves)
            {
                ArmErrorDetail?[] errors = await Task.WhenAll(wave.Where(r => r.Condition)
                    .Select(r => DeployOneAsync(plan, r, states, progress, cancellationToken)));
                ArmErrorDetail[] failed = errors.OfType<ArmErrorDetail>().ToArray();
                if (failed.Length > 0)
                {
                    await progress.FinishAsync(DeploymentStates.Failed, time.GetUtcNow(), DeploymentErrors.DeploymentFailed(failed), null, CancellationToken.None);
                    return;
                }
            }

            if (deployment.Mode == DeploymentModes.Complete && await DeleteUnnamedAsync(plan, progress, cancellationToken) is { Count: > 0 } deleteFailed)
            {
                await progress.FinishAsync(DeploymentStates.Failed, time.GetUtcNow(), DeploymentErrors.DeploymentFailed([.. deleteFailed]), null, CancellationToken.None);
                return;
            }

            JsonObject outputs = plan.EvaluateOutputs(await states.WithCurrentAsync(plan, registry, cancellationToken));
            await progress.FinishAsync(DeploymentStates.Succeeded, time.GetUtcNow(), null, outputs.ToJsonString(), CancellationToken.None);
        }
        catch (ArmTemplateException e)
        {
            await progress.FinishAsync(DeploymentStates.Failed, time.GetUtcNow(),
                DeploymentErrors.DeploymentFailed([new ArmErrorDetail { Code = e.Code, Message = e.Message, Target = e.Target }]), null, CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Service shutdown: the deployment stays Running in the store and is failed as interrupted at the next start.
        }
    }

    private async Task<ArmErrorDetail?> DeployOneAsync(DeploymentPlan plan, PlannedResource resource, DeployedStates states, Progress progress,
        CancellationToken cancellationToken)
    {
        DateTimeOffset started = time.GetUtcNow();
        var operation = new DeploymentOperation
        {
            OperationId = Guid.NewGuid().ToString("N")[..16].ToUpperInvariant(),
            ResourceId = resource.Id,
            ResourceType = resource.Type,
            ResourceName = resource.Name,
            ProvisioningState = DeploymentStates.Running,
            Timestamp = started,
        };
        await progress.UpsertAsync(operation, cancellationToken);
        ResourceDeploymentResult result;
        try
        {
            JsonObject body = plan.EvaluateResource(resource, states);
            IResourceTypeHandler handler = registry.Find(resource.Type)!;
            result = await handler.DeployAsync(new ResourceDeployment(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, resource.Type, resource.Name,
                resource.ApiVersion, body), cancellationToken);
        }
        catch (ArmTemplateException e)
        {
            result = ResourceDeploymentResult.Failed(ArmErrors.Fail(ArmErrors.BadRequest, e.Code, e.Message, e.Target));
        }

        DateTimeOffset ended = time.GetUtcNow();
        if (result.Failure is ArmFailure failure)
        {
            ArmErrorDetail inner = DeploymentErrors.Inner(failure, resource.Id);
            await progress.UpsertAsync(operation with
            {
                ProvisioningState = DeploymentStates.Failed,
                StatusCode = StatusName(failure.StatusCode),
                Error = inner,
                Timestamp = ended,
                Duration = ended - started,
            }, cancellationToken);
            return inner;
        }

        if (result.State is JsonObject state)
            states.Set(resource.Id, state);
        await progress.UpsertAsync(operation with
        {
            ProvisioningState = DeploymentStates.Succeeded,
            StatusCode = result.Created ? "Created" : "OK",
            Unchanged = result.Unchanged,
            Timestamp = ended,
            Duration = ended - started,
        }, cancellationToken);
        return null;
    }

    /// <summary>
    /// Complete mode, once the template's resources are deployed: the group's resources the template does not name are
    /// deleted, type by type in delete order (a VM before its NIC, a NIC before its network and NSG), each recorded as an
    /// operation with <c>provisioningOperation: Delete</c>. A resource the template names with a false condition stays
    /// (ARM since api-version 2019-05-10). The first type with a failed delete stops the deletions.
    /// </summary>
    private async Task<IReadOnlyList<ArmErrorDetail>> DeleteUnnamedAsync(DeploymentPlan plan, Progress progress, CancellationToken cancellationToken)
    {
        var named = plan.Resources.Select(r => r.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var failed = new List<ArmErrorDetail>();
        foreach (IGrouping<int, IResourceTypeHandler> types in registry.InDeleteOrder.GroupBy(h => h.DeleteOrder))
        {
            foreach (IResourceTypeHandler handler in types)
            {
                foreach (string name in await handler.ListNamesAsync(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, cancellationToken))
                {
                    string id = TrustedLaunch.ArmTemplates.ResourceIds.InGroup(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, handler.ResourceType, name);
                    if (!named.Contains(id) && await DeleteOneAsync(plan, handler, name, id, progress, cancellationToken) is ArmErrorDetail error)
                        failed.Add(error);
                }
            }

            if (failed.Count > 0)
                break;
        }

        return failed;
    }

    private async Task<ArmErrorDetail?> DeleteOneAsync(DeploymentPlan plan, IResourceTypeHandler handler, string name, string id, Progress progress,
        CancellationToken cancellationToken)
    {
        DateTimeOffset started = time.GetUtcNow();
        var operation = new DeploymentOperation
        {
            OperationId = Guid.NewGuid().ToString("N")[..16].ToUpperInvariant(),
            ResourceId = id,
            ResourceType = handler.ResourceType,
            ResourceName = name,
            ProvisioningOperation = "Delete",
            ProvisioningState = DeploymentStates.Running,
            Timestamp = started,
        };
        await progress.UpsertAsync(operation, cancellationToken);
        ArmFailure? failure = await handler.DeleteAsync(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, name, cancellationToken);
        DateTimeOffset ended = time.GetUtcNow();
        ArmErrorDetail? inner = failure is null ? null : DeploymentErrors.Inner(failure, id);
        await progress.UpsertAsync(operation with
        {
            ProvisioningState = inner is null ? DeploymentStates.Succeeded : DeploymentStates.Failed,
            StatusCode = failure is null ? "OK" : StatusName(failure.StatusCode),
            Error = inner,
            Timestamp = ended,
            Duration = ended - started,
        }, cancellationToken);
        return inner;
    }

    private static string StatusName(int status) => status switch
    {
        400 => "BadRequest",
        404 => "NotFound",
        409 => "Conflict",
        412 => "PreconditionFailed",
        _ => status >= 500 ? "InternalServerError" : status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The deployment as it progresses: operations from parallel resources change it one at a time.</summary>
    private sealed class Progress(IDeploymentStore store, DeploymentRecord initial) : IDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private DeploymentRecord _current = initial;

        public Task<bool> SaveAsync(CancellationToken cancellationToken) => store.UpdateAsync(_current, cancellationToken);

        public void Dispose() => _gate.Dispose();

        public Task UpsertAsync(DeploymentOperation operation, CancellationToken cancellationToken) => ChangeAsync(d => d with
        {
            Operations = d.Operations.Any(o => o.OperationId == operation.OperationId)
                ? d.Operations.Select(o => o.OperationId == operation.OperationId ? operation : o).ToArray()
                : [.. d.Operations, operation],
            Timestamp = operation.Timestamp,
        }, cancellationToken);

        public Task FinishAsync(string state, DateTimeOffset at, ArmErrorDetail? error, string? outputs, CancellationToken cancellationToken) =>
            ChangeAsync(d => d with { ProvisioningState = state, Timestamp = at, Error = error, OutputsJson = outputs }, cancellationToken);

        private async Task ChangeAsync(Func<DeploymentRecord, DeploymentRecord> change, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                _current = change(_current);
                await store.UpdateAsync(_current, cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>What <c>reference()</c> sees: the states handlers answered in this deployment, then the resources' current ones.</summary>
    private sealed class DeployedStates : IReferenceResolver
    {
        private readonly ConcurrentDictionary<string, JsonObject> _states = new(StringComparer.OrdinalIgnoreCase);

        public void Set(string id, JsonObject state) => _states[id] = state;

        public JsonObject? Resolve(string resourceId, string? apiVersion) => _states.GetValueOrDefault(resourceId);

        /// <summary>Before outputs: a resource the outputs reference that this run skipped is read from its provider.</summary>
        public async Task<IReferenceResolver> WithCurrentAsync(DeploymentPlan plan, ResourceTypeRegistry registry, CancellationToken cancellationToken)
        {
            foreach (PlannedResource resource in plan.Resources.Where(r => !_states.ContainsKey(r.Id)))
            {
                if (registry.Find(resource.Type) is IResourceTypeHandler handler
                    && await handler.GetStateAsync(plan.Scope.SubscriptionId, plan.Scope.ResourceGroup, resource.Name, cancellationToken) is JsonObject state)
                    _states[resource.Id] = state;
            }

            return this;
        }
    }
}
