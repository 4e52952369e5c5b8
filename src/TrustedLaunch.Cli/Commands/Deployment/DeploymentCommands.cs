using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates;
using TrustedLaunch.Cli.Commands.Arm;

namespace TrustedLaunch.Cli.Commands.Deployment;

/// <summary>
/// <c>tl deployment group create|validate|what-if|show|list</c> and <c>tl deployment operation group list</c>: ARM template deployments
/// at resource group scope, as <c>az deployment group</c>.
/// </summary>
internal static class DeploymentCommands
{
    public const string ApiVersion = "2021-04-01";

    private static readonly TableColumn[] Columns =
    [
        new("Name", d => ArmOutput.At(d, "name")),
        new("State", d => ArmOutput.At(d, "properties.provisioningState")),
        new("Timestamp", d => ArmOutput.At(d, "properties.timestamp")),
        new("Duration", d => ArmOutput.At(d, "properties.duration")),
    ];

    private static readonly TableColumn[] ChangeColumns =
    [
        new("Change", c => ArmOutput.At(c, "changeType")),
        new("Resource", c => ArmOutput.At(c, "resourceId")?.Split("/providers/", 2) is [_, string tail] ? tail : ArmOutput.At(c, "resourceId")),
        new("Properties", c => c.TryGetProperty("delta", out JsonElement delta)
            ? string.Join(", ", delta.EnumerateArray().Select(d => $"{(ArmOutput.At(d, "propertyChangeType") == "Create" ? "+" : "~")}{ArmOutput.At(d, "path")}"))
            : ""),
    ];

    private static readonly TableColumn[] OperationColumns =
    [
        new("Resource", o => ArmOutput.At(o, "properties.targetResource.resourceName")),
        new("Type", o => ArmOutput.At(o, "properties.targetResource.resourceType")),
        new("State", o => ArmOutput.At(o, "properties.provisioningState")),
        new("Status", o => ArmOutput.At(o, "properties.statusCode")),
        new("Duration", o => ArmOutput.At(o, "properties.duration")),
    ];

    public static Command Create()
    {
        var group = new Command("group", "Deployments at resource group scope.");
        group.Subcommands.Add(CreateCreate());
        group.Subcommands.Add(CreateValidate());
        group.Subcommands.Add(CreateWhatIf());
        group.Subcommands.Add(CreateShow());
        group.Subcommands.Add(CreateList());
        var operationGroup = new Command("group", "Operations of a resource group deployment.");
        operationGroup.Subcommands.Add(CreateOperationList());
        var operation = new Command("operation", "The per-resource operations of deployments.");
        operation.Subcommands.Add(operationGroup);
        var command = new Command("deployment", "ARM template deployments (as az deployment); docs/deployments.md lists the template language.");
        command.Subcommands.Add(group);
        command.Subcommands.Add(operation);
        return command;
    }

    private static Command CreateCreate()
    {
        var (resourceGroup, templateFile, name, parameters, mode) = TemplateOptions();
        var noWait = ArmOptions.NoWait();
        var command = new Command("create", "Deploy a template to a resource group (Incremental, or Complete: the group's resources it does not name are deleted). Exit 0 succeeded, 1 a resource failed, 2 refused or invalid, 3 no control plane.")
            { resourceGroup, templateFile, name, parameters, mode, noWait };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            FileInfo file = parse.GetValue(templateFile)!;
            JsonObject body = await BodyAsync(file, parse.GetValue(parameters) ?? [], parse.GetValue(mode)!, cancellationToken).ConfigureAwait(false);
            string deployment = parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(file.Name);
            using ArmApi api = arm.Connect(parse);
            string path = await DeploymentPathAsync(api, parse.GetValue(resourceGroup)!, deployment, cancellationToken).ConfigureAwait(false);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Put, path, ApiVersion,
                JsonSerializer.SerializeToUtf8Bytes(body, DeploymentJson.Default.JsonObject), cancellationToken).ConfigureAwait(false);
            JsonElement result = answer.Body!.Value;
            if (!parse.GetValue(noWait))
                result = await WaitAsync(api, path, deployment, parse.Error(), cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), result, Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateValidate() => CreateTemplateCheck("validate", "validate",
        "Check a template deployment as create would (template, parameters, types, images), creating nothing. Exit 0 valid, 2 not valid, 3 no control plane.",
        answer => answer, Columns);

    private static Command CreateWhatIf() => CreateTemplateCheck("what-if", "whatIf",
        "Show what a template deployment would create, modify or (Complete mode) delete, property by property, changing nothing. Exit 0, 2 not valid, 3 no control plane.",
        answer => answer.GetProperty("properties").GetProperty("changes"), ChangeColumns);

    // validate and what-if: the create's body POSTed to the deployment's action; nothing is created or changed.
    private static Command CreateTemplateCheck(string verb, string action, string description, Func<JsonElement, JsonElement> shown, TableColumn[] columns)
    {
        var (resourceGroup, templateFile, name, parameters, mode) = TemplateOptions();
        var command = new Command(verb, description) { resourceGroup, templateFile, name, parameters, mode };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            FileInfo file = parse.GetValue(templateFile)!;
            JsonObject body = await BodyAsync(file, parse.GetValue(parameters) ?? [], parse.GetValue(mode)!, cancellationToken).ConfigureAwait(false);
            using ArmApi api = arm.Connect(parse);
            string path = await DeploymentPathAsync(api, parse.GetValue(resourceGroup)!, parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(file.Name), cancellationToken)
                .ConfigureAwait(false);
            ArmAnswer answer = await api.SendAsync(HttpMethod.Post, $"{path}/{action}", ApiVersion,
                JsonSerializer.SerializeToUtf8Bytes(body, DeploymentJson.Default.JsonObject), cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), shown(answer.Body!.Value), columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static (Option<string> Group, Option<FileInfo> Template, Option<string?> Name, Option<string[]> Parameters, Option<string> Mode) TemplateOptions() =>
    (
        ArmOptions.ResourceGroup(),
        new Option<FileInfo>("--template-file", "-f") { Description = "The ARM template (JSON; Bicep compiles to it).", Required = true },
        new Option<string?>("--name", "-n") { Description = "Name of the deployment (default: the template file's name without extension)." },
        new Option<string[]>("--parameters", "-p")
        {
            Description = "Parameter values: NAME=VALUE (read as the parameter's declared type) or @FILE.json (an ARM parameters file); repeatable.",
            AllowMultipleArgumentsPerToken = true,
        },
        new Option<string>("--mode") { Description = "Incremental (default: other resources of the group are left alone) or Complete (they are deleted).", DefaultValueFactory = _ => "Incremental" });

    // The body of a deployment request (PUT, validate, whatIf): the template inline, the mode, the parameters read as declared.
    private static async Task<JsonObject> BodyAsync(FileInfo file, string[] parameters, string mode, CancellationToken cancellationToken)
    {
        string text = await File.ReadAllTextAsync(file.FullName, cancellationToken).ConfigureAwait(false);
        ArmTemplate template = ArmTemplate.Parse(text);
        return new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["mode"] = mode,
                ["template"] = template.Root.DeepClone(),
                ["parameters"] = DeploymentParameters.Read(template, parameters),
            },
        };
    }

    private static Command CreateShow()
    {
        var resourceGroup = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("deployment");
        var command = new Command("show", "Show a deployment: its state, parameters (secure ones without values), outputs and error.") { resourceGroup, name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = await DeploymentPathAsync(api, parse.GetValue(resourceGroup)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            ArmAnswer answer = await api.GetAsync(path, ApiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value, Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateList()
    {
        var resourceGroup = ArmOptions.ResourceGroup();
        var command = new Command("list", "List the deployments of a resource group.") { resourceGroup };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = $"{await api.GroupPathAsync(parse.GetValue(resourceGroup)!, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Resources/deployments";
            ArmAnswer answer = await api.GetAsync(path, ApiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value.GetProperty("value"), Columns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static Command CreateOperationList()
    {
        var resourceGroup = ArmOptions.ResourceGroup();
        var name = ArmOptions.Name("deployment");
        var command = new Command("list", "List a deployment's per-resource operations (state, status code, error).") { resourceGroup, name };
        ArmArguments arm = ArmArguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ArmApi api = arm.Connect(parse);
            string path = await DeploymentPathAsync(api, parse.GetValue(resourceGroup)!, parse.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            ArmAnswer answer = await api.GetAsync($"{path}/operations", ApiVersion, cancellationToken).ConfigureAwait(false);
            ArmOutput.Write(parse.Out(), arm.Format(parse), answer.Body!.Value.GetProperty("value"), OperationColumns);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    private static async Task<string> DeploymentPathAsync(ArmApi api, string group, string name, CancellationToken cancellationToken) =>
        $"{await api.GroupPathAsync(group, cancellationToken).ConfigureAwait(false)}/providers/Microsoft.Resources/deployments/{Uri.EscapeDataString(name)}";

    // Polls the deployment until it is terminal; a failed one becomes ArmOperationFailedException with its inner errors.
    private static async Task<JsonElement> WaitAsync(ArmApi api, string path, string name, TextWriter progress, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            JsonElement deployment = (await api.GetAsync(path, ApiVersion, cancellationToken).ConfigureAwait(false)).Body!.Value;
            string state = ArmOutput.At(deployment, "properties.provisioningState") ?? "";
            if (state is "Succeeded")
            {
                progress.WriteLine($"tl: deployment '{name}': Succeeded ({clock.Elapsed.TotalSeconds:0.0} s)");
                return deployment;
            }

            if (state is "Failed" or "Canceled")
            {
                JsonElement error = deployment.GetProperty("properties").GetProperty("error");
                IEnumerable<string> inner = error.TryGetProperty("details", out JsonElement details)
                    ? details.EnumerateArray().Select(d => $"  {ArmOutput.At(d, "code")}: {ArmOutput.At(d, "message")}")
                    : [];
                throw new ArmOperationFailedException(
                    $"deployment '{name}' {state}: {ArmOutput.At(error, "code")}: {ArmOutput.At(error, "message")}{Environment.NewLine}{string.Join(Environment.NewLine, inner)}".TrimEnd());
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Command-line parameter values: NAME=VALUE read as the template declares NAME, and @FILE parameters files.</summary>
internal static class DeploymentParameters
{
    public static JsonObject Read(ArmTemplate template, IEnumerable<string> tokens)
    {
        var values = new JsonObject();
        foreach (string token in tokens)
        {
            if (token.StartsWith('@'))
            {
                JsonNode? file = JsonNode.Parse(File.ReadAllText(token[1..]));
                JsonObject given = (file?["parameters"] ?? file) as JsonObject
                    ?? throw new CliException(ExitCode.BadInput, $"{token[1..]}: a parameters file is a JSON object (with 'parameters').");
                foreach ((string name, JsonNode? entry) in given)
                    values[name] = entry?.DeepClone();
                continue;
            }

            int equals = token.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new CliException(ExitCode.BadInput, $"'{token}' is not NAME=VALUE or @FILE.json.");
            string parameterName = token[..equals];
            TemplateParameter parameter = template.FindParameter(parameterName)
                ?? throw new CliException(ExitCode.BadInput, $"The template has no parameter '{parameterName}' (it has: {string.Join(", ", template.Parameters.Select(p => p.Name))}).");
            values[parameter.Name] = new JsonObject { ["value"] = parameter.FromText(token[(equals + 1)..]) };
        }

        return values;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonObject))]
internal sealed partial class DeploymentJson : System.Text.Json.Serialization.JsonSerializerContext;
