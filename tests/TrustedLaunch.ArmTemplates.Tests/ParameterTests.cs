using System.Text.Json.Nodes;
using static TrustedLaunch.ArmTemplates.Tests.TemplateHarness;

namespace TrustedLaunch.ArmTemplates.Tests;

public class ParameterTests
{
    private const string Template = """
        {"parameters": {
           "os": {"type": "string", "defaultValue": "Ubuntu-2204", "allowedValues": ["Ubuntu-2004", "Ubuntu-2204"]},
           "password": {"type": "secureString"},
           "count": {"type": "int", "defaultValue": 2, "minValue": 1, "maxValue": 4},
           "name": {"type": "string", "defaultValue": "[concat('vm-', parameters('os'))]", "maxLength": 15}
         },
         "resources": [],
         "outputs": {"name": {"type": "string", "value": "[parameters('name')]"}, "secret": {"type": "securestring", "value": "[parameters('password')]"}}}
        """;

    private static Dictionary<string, JsonNode?> With(params (string Name, JsonNode? Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value);

    [Fact]
    public void Plan_DefaultsAndGiven_ResolveAndSecureIsHidden()
    {
        DeploymentPlan plan = Plan(Template, With(("PASSWORD", "s3cret-Pa55")));
        JsonObject display = plan.ParametersForDisplay();
        Assert.Equal("vm-Ubuntu-2204", display["name"]!["value"]!.GetValue<string>());
        Assert.Equal("SecureString", display["password"]!["type"]!.GetValue<string>());
        Assert.False(display["password"]!.AsObject().ContainsKey("value"));
        JsonObject outputs = plan.EvaluateOutputs(new MapResolver());
        Assert.False(outputs["secret"]!.AsObject().ContainsKey("value"));
        Assert.DoesNotContain("s3cret", display.ToJsonString() + outputs.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_MissingValue_NamesParameter()
    {
        var error = Assert.Throws<TemplateParameterException>(() => Plan(Template));
        Assert.Equal("The value for the template parameter 'password' is not provided. Please see https://aka.ms/arm-deploy/#parameter-file for usage details.", error.Message);
        Assert.Equal("parameters.password", error.Target);
    }

    [Fact]
    public void Plan_UnknownParameter_IsRefusedListingTheTemplates()
    {
        var error = Assert.Throws<TemplateParameterException>(() => Plan(Template, With(("password", "x"), ("colour", "red"))));
        Assert.Contains("'colour'", error.Message, StringComparison.Ordinal);
        Assert.Contains("are 'os, password, count, name'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NotAllowedValue_ListsAllowed()
    {
        var error = Assert.Throws<TemplateParameterException>(() => Plan(Template, With(("password", "x"), ("os", "RHEL-83"))));
        Assert.Equal("The provided value for the template parameter 'os' is not valid. The value 'RHEL-83' is not part of the allowed value(s): 'Ubuntu-2004,Ubuntu-2204'.", error.Message);
    }

    [Fact]
    public void Plan_WrongType_SaysExpectedAndReceived()
    {
        var error = Assert.Throws<TemplateParameterException>(() => Plan(Template, With(("password", "x"), ("count", "two"))));
        Assert.Equal("Template parameter 'count' was provided an invalid value. Expected a value of type 'Int', but received a value of type 'String'.", error.Message);
    }

    [Fact]
    public void Plan_SecureValueOfWrongType_DoesNotEchoIt()
    {
        var error = Assert.Throws<TemplateParameterException>(() => Plan(Template, With(("password", 12345))));
        Assert.DoesNotContain("12345", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Plan_OutOfBounds_IsRefused(int count) =>
        Assert.Throws<TemplateParameterException>(() => Plan(Template, With(("password", "x"), ("count", count))));

    [Fact]
    public void Plan_TooLongDefault_IsRefused()
    {
        var error = Assert.Throws<TemplateParameterException>(() => Plan(Template, With(("password", "x"), ("os", "Ubuntu-2004"), ("name", "a-name-longer-than-15"))));
        Assert.Contains("length", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("string", "text", "\"text\"")]
    [InlineData("int", "42", "42")]
    [InlineData("bool", "true", "true")]
    [InlineData("object", "{\"a\":1}", "{\"a\":1}")]
    [InlineData("array", "[1,2]", "[1,2]")]
    public void FromText_ReadsCommandLineValueAsDeclaredType(string type, string text, string expected)
    {
        ArmTemplate template = ArmTemplate.Parse($$$"""{"parameters": {"p": {"type": "{{{type}}}"}}, "resources": []}""");
        Assert.Equal(expected, template.FindParameter("p")!.FromText(text)!.ToJsonString());
    }

    [Fact]
    public void FromText_BadInt_IsRefused()
    {
        ArmTemplate template = ArmTemplate.Parse("""{"parameters": {"p": {"type": "int"}}, "resources": []}""");
        Assert.Throws<TemplateParameterException>(() => template.FindParameter("p")!.FromText("many"));
    }

    [Theory]
    [InlineData("unknown type", """{"parameters": {"p": {"type": "number"}}, "resources": []}""")]
    [InlineData("no type", """{"parameters": {"p": {}}, "resources": []}""")]
    [InlineData("no resources", """{"parameters": {}}""")]
    [InlineData("unknown section", """{"resources": [], "extras": {}}""")]
    [InlineData("symbolic names", """{"languageVersion": "2.0", "resources": {}}""")]
    [InlineData("user functions", """{"functions": [{"namespace": "ns", "members": {}}], "resources": []}""")]
    [InlineData("not json", """{"resources": [}""")]
    [InlineData("variable copy", """{"variables": {"copy": []}, "resources": []}""")]
    public void Parse_MalformedTemplate_ThrowsSyntax(string label, string json)
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => ArmTemplate.Parse(json));
        Assert.Equal("InvalidTemplate", error.Code);
        Assert.NotEmpty(label);
    }

    [Fact]
    public void Plan_CircularVariables_IsDetected()
    {
        var error = Assert.Throws<TemplateEvaluationException>(() =>
            Plan("""{"variables": {"a": "[variables('b')]", "b": "[variables('a')]"}, "resources": []}"""));
        Assert.Contains("circular reference", error.Message, StringComparison.Ordinal);
    }
}
