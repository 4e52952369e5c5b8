using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using TrustedLaunch.Server;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Deployment;

/// <summary>
/// <c>tl deployment</c> against a real control plane in this process (no host: network-only templates): parameters
/// from NAME=VALUE (read as the declared type) and @FILE, waiting for the result, outputs, the operation list, a failed
/// deployment (exit 1 with ARM's DeploymentFailed and the inner error) and refusals (exit 2).
/// </summary>
public sealed class DeploymentCliTests : IAsyncLifetime
{
    private const string Network = """
        {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
         "parameters": {"prefix": {"type": "string"}, "subnets": {"type": "int", "defaultValue": 2}, "open": {"type": "bool", "defaultValue": true}},
         "resources": [
           {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2021-05-01", "name": "nsg", "location": "[resourceGroup().location]",
            "properties": {"securityRules": "[if(parameters('open'), createArray(json('{\"name\": \"ssh\", \"properties\": {\"priority\": 1000, \"access\": \"Allow\", \"direction\": \"Inbound\", \"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": \"22\", \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\"}}')), createArray())]"}},
           {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vnet", "location": "[resourceGroup().location]",
            "dependsOn": ["nsg"],
            "properties": {"addressSpace": {"addressPrefixes": ["[parameters('prefix')]"]},
              "copy": [{"name": "subnets", "count": "[parameters('subnets')]", "input": {"name": "[concat('s', copyIndex('subnets'))]",
                "properties": {"addressPrefix": "[format('10.2.{0}.0/24', copyIndex('subnets'))]"}}}]}}],
         "outputs": {"firstSubnet": {"type": "string", "value": "[reference('vnet').subnets[0].properties.addressPrefix]"},
                     "count": {"type": "int", "value": "[length(reference(resourceId('Microsoft.Network/virtualNetworks', 'vnet')).subnets)]"}}}
        """;

    private readonly string _data = RepositoryPaths.NewTempDirectory("tl-deployment-cli");
    private WebApplication _app = null!;
    private string _url = null!;

    public async Task InitializeAsync()
    {
        _app = AttestationServiceHost.Build(new AttestationServiceOptions { DataDirectory = _data, Listen = "http://127.0.0.1:0" }, configureLogging: logging => { });
        await _app.StartAsync();
        _url = AttestationServiceHost.BoundAddresses(_app.Services)[0];
        await File.WriteAllTextAsync(Path.Combine(_data, "network.json"), Network);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private ToolResult Tl(params string[] args) => TlRun.InProcess([.. args, "--server", _url]);

    private string TemplateFile => Path.Combine(_data, "network.json");

    [Fact]
    public void Create_NetworkTemplate_WaitsAndPrintsOutputs_OperationsListed()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg1").ExitCode);
        ToolResult created = Tl("deployment", "group", "create", "-g", "rg1", "--template-file", TemplateFile, "--parameters", "prefix=10.2.0.0/16", "subnets=3",
            "-o", "json");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("tl: deployment 'network': Succeeded", created.StandardError, StringComparison.Ordinal);
        JsonElement outputs = JsonDocument.Parse(created.StandardOutput).RootElement.GetProperty("properties").GetProperty("outputs");
        Assert.Equal("10.2.0.0/24", outputs.GetProperty("firstSubnet").GetProperty("value").GetString());
        Assert.Equal(3, outputs.GetProperty("count").GetProperty("value").GetInt32());

        ToolResult operations = Tl("deployment", "operation", "group", "list", "-g", "rg1", "-n", "network", "-o", "table");
        Assert.Equal(0, operations.ExitCode);
        Assert.Contains("Microsoft.Network/virtualNetworks", operations.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Succeeded", operations.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, Tl("deployment", "group", "show", "-g", "rg1", "-n", "network").ExitCode);
        Assert.Contains("network", Tl("deployment", "group", "list", "-g", "rg1", "-o", "table").StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ParametersFile_IsRead()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg2").ExitCode);
        string file = Path.Combine(_data, "params.json");
        File.WriteAllText(file, """{"$schema": "x", "contentVersion": "1.0.0.0", "parameters": {"prefix": {"value": "10.2.0.0/16"}, "open": {"value": false}}}""");
        ToolResult created = Tl("deployment", "group", "create", "-g", "rg2", "-n", "fromfile", "--template-file", TemplateFile, "--parameters", "@" + file);
        Assert.True(created.ExitCode == 0, created.ToString());
    }

    [Fact]
    public void Create_SubnetOutsideNetwork_Exit1WithDeploymentFailedAndInnerError()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg3").ExitCode);
        ToolResult failed = Tl("deployment", "group", "create", "-g", "rg3", "--template-file", TemplateFile, "--parameters", "prefix=10.9.0.0/16", "subnets=1");
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("DeploymentFailed: At least one resource deployment operation failed.", failed.StandardError, StringComparison.Ordinal);
        Assert.Contains("NetcfgSubnetRangeOutsideVnet: Subnet 's0' is not valid because its IP address range is outside the IP address range of virtual network 'vnet'.",
            failed.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown parameter", "colour=red", "The template has no parameter 'colour'")]
    [InlineData("wrong type", "subnets=two", "is not of its type 'Int'")]
    [InlineData("not NAME=VALUE", "prefix", "is not NAME=VALUE or @FILE.json")]
    public void Create_BadParameter_Exit2(string label, string parameter, string message)
    {
        ToolResult refused = Tl("deployment", "group", "create", "-g", "rg1", "--template-file", TemplateFile, "--parameters", parameter);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains(message, refused.StandardError, StringComparison.Ordinal);
        Assert.NotEmpty(label);
    }

    [Fact]
    public void Create_MissingParameter_ArmRefusalExit2()
    {
        Assert.Equal(0, Tl("group", "create", "-n", "rg4").ExitCode);
        ToolResult refused = Tl("deployment", "group", "create", "-g", "rg4", "--template-file", TemplateFile);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("(InvalidTemplate) Deployment template validation failed: 'The value for the template parameter 'prefix' is not provided.", refused.StandardError,
            StringComparison.Ordinal);
    }
}
