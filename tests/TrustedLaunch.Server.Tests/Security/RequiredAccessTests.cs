using TrustedLaunch.Server.Security;

namespace TrustedLaunch.Server.Tests.Security;

/// <summary>Requests read as Azure RBAC names them: the action string, the access level and the scope.</summary>
public sealed class RequiredAccessTests
{
    private const string S = "/subscriptions/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b";

    [Theory]
    [InlineData("PUT", S + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "Microsoft.Compute/virtualMachines/write", AccessLevel.Write, S + "/resourceGroups/rg")]
    [InlineData("GET", S + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "Microsoft.Compute/virtualMachines/read", AccessLevel.Read, S + "/resourceGroups/rg")]
    [InlineData("DELETE", S + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "Microsoft.Compute/virtualMachines/delete", AccessLevel.Write, S + "/resourceGroups/rg")]
    [InlineData("POST", S + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/start", "Microsoft.Compute/virtualMachines/start/action", AccessLevel.Write, S + "/resourceGroups/rg")]
    [InlineData("GET", S + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/instanceView", "Microsoft.Compute/virtualMachines/instanceView/read", AccessLevel.Read, S + "/resourceGroups/rg")]
    [InlineData("GET", S + "/providers/Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines/read", AccessLevel.Read, S)]
    [InlineData("PUT", S + "/resourceGroups/rg", "Microsoft.Resources/subscriptions/resourceGroups/write", AccessLevel.Write, S + "/resourceGroups/rg")]
    [InlineData("GET", S + "/resourcegroups", "Microsoft.Resources/subscriptions/resourceGroups/read", AccessLevel.Read, S)]
    [InlineData("GET", S + "/providers/Microsoft.Security/assessments", "Microsoft.Security/assessments/read", AccessLevel.Read, S)]
    [InlineData("PUT", S + "/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap1", "Microsoft.Compute/snapshots/write", AccessLevel.Write, S + "/resourceGroups/rg")]
    [InlineData("DELETE", S + "/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap1", "Microsoft.Compute/snapshots/delete", AccessLevel.Write, S + "/resourceGroups/rg")]
    [InlineData("GET", S + "/providers/Microsoft.Compute/snapshots", "Microsoft.Compute/snapshots/read", AccessLevel.Read, S)]
    [InlineData("POST", S + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/restoreFromSnapshot", "Microsoft.Compute/virtualMachines/restoreFromSnapshot/action", AccessLevel.Write, S + "/resourceGroups/rg")]
    public void Arm_ActionAndScopeAsAzureRbacNamesThem(string method, string path, string action, AccessLevel access, string scope)
    {
        RequiredAccess required = RequiredAccess.Classify(method, path);
        Assert.Equal(PermissionKind.Scoped, required.Kind);
        Assert.Equal(action, required.Action);
        Assert.Equal(access, required.Access);
        Assert.Equal(scope, required.Scope);
    }

    [Theory]
    [InlineData("GET", "/certs")]
    [InlineData("GET", "/.well-known/openid-configuration")]
    [InlineData("GET", "/healthz")]
    [InlineData("POST", "/v1/hosts/host1/enroll")]
    public void RelyingPartyHealthAndEnrollment_Public(string method, string path) =>
        Assert.Equal(PermissionKind.Public, RequiredAccess.Classify(method, path).Kind);

    [Theory]
    [InlineData("GET", "/portal/signin", PermissionKind.Public, AccessLevel.Read)]
    [InlineData("POST", "/portal/signin", PermissionKind.Public, AccessLevel.Read)]
    [InlineData("POST", "/portal/signout", PermissionKind.Public, AccessLevel.Read)]
    [InlineData("GET", "/portal/vms", PermissionKind.Filtered, AccessLevel.Read)]
    [InlineData("POST", "/portal/vms/rg/vm1/confirm/delete", PermissionKind.Filtered, AccessLevel.Write)]
    [InlineData("POST", "/portal/signin/x", PermissionKind.Filtered, AccessLevel.Write)]
    public void Portal_SignInOpen_PagesNeedAPrincipal_PostsOneThatWrites(string method, string path, PermissionKind kind, AccessLevel access)
    {
        RequiredAccess required = RequiredAccess.Classify(method, path);
        Assert.Equal((kind, access), (required.Kind, required.Access));
    }

    [Theory]
    [InlineData("POST", "/v1/vms/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b/challenges", PermissionKind.VmRelay, AccessLevel.Write)]
    [InlineData("POST", "/v1/vms/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b/attestations", PermissionKind.VmRelay, AccessLevel.Write)]
    [InlineData("GET", "/v1/vms/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b/attestations/latest", PermissionKind.Vm, AccessLevel.AttestationRead)]
    [InlineData("POST", "/v1/vms/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b/baseline:relearn", PermissionKind.Vm, AccessLevel.Write)]
    [InlineData("GET", "/v1/hosts/host1/assignments", PermissionKind.HostContract, AccessLevel.Read)]
    [InlineData("PUT", "/v1/policies/strict", PermissionKind.Scoped, AccessLevel.Write)]
    [InlineData("GET", "/subscriptions", PermissionKind.Filtered, AccessLevel.Read)]
    public void AttestationAndHostApi_Classified(string method, string path, PermissionKind kind, AccessLevel access)
    {
        RequiredAccess required = RequiredAccess.Classify(method, path);
        Assert.Equal(kind, required.Kind);
        Assert.Equal(access, required.Access);
    }

    [Theory]
    [InlineData(ServiceRole.Reader, AccessLevel.Read, true)]
    [InlineData(ServiceRole.Reader, AccessLevel.Write, false)]
    [InlineData(ServiceRole.Contributor, AccessLevel.Write, true)]
    [InlineData(ServiceRole.Contributor, AccessLevel.ManageAccess, false)]
    [InlineData(ServiceRole.Owner, AccessLevel.ManageAccess, true)]
    [InlineData(ServiceRole.AttestationReader, AccessLevel.AttestationRead, true)]
    [InlineData(ServiceRole.AttestationReader, AccessLevel.Read, false)]
    public void Roles_GrantWhatAzureRbacGrants(ServiceRole role, AccessLevel access, bool granted) =>
        Assert.Equal(granted, new RoleAssignment(role, "/").Grants(access));

    [Theory]
    [InlineData("/", "/")]
    [InlineData(S, S)]
    [InlineData(S + "/resourcegroups/rg1/", S + "/resourceGroups/rg1")]
    [InlineData("/subscriptions/6F1C2B3A-4D5E-4F60-8A7B-9C0D1E2F3A4B", S)]
    public void Scope_Normalised(string text, string expected) => Assert.Equal(expected, ServiceScope.Parse(text, out _));

    [Theory]
    [InlineData("/subscriptions/not-a-guid")]
    [InlineData(S + "/resourceGroups")]
    [InlineData(S + "/providers/Microsoft.Compute")]
    [InlineData("subscriptions/" + "x")]
    public void Scope_Invalid_NamedError(string text)
    {
        Assert.Null(ServiceScope.Parse(text, out string? error));
        Assert.Contains(text, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Scope_ParentContainsChildNotSibling()
    {
        Assert.True(ServiceScope.Contains(S, S + "/resourceGroups/rg"));
        Assert.False(ServiceScope.Contains(S + "/resourceGroups/rg", S + "/resourceGroups/rg2"));
        Assert.False(ServiceScope.Contains(S + "/resourceGroups/rg", S + "/resourceGroups/rg-other"));
        Assert.True(ServiceScope.Contains("/", S));
    }

    [Fact]
    public void ApiKey_RoundTripsAndMatchesOnlyItsSecret()
    {
        Guid appId = Guid.NewGuid();
        (string key, byte[] hash) = ApiKeys.Create(appId);
        Assert.True(ApiKeys.TryParse(key, out Guid parsed, out string secret));
        Assert.Equal(appId, parsed);
        Assert.True(ApiKeys.Matches(secret, hash));
        Assert.False(ApiKeys.Matches(secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A'), hash));
        Assert.Equal(32, hash.Length);
        Assert.False(ApiKeys.TryParse("eyJhbGciOiJFUzI1NiJ9.e30.sig", out _, out _));
    }
}
