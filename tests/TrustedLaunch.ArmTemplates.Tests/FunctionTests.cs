using System.Text.Json.Nodes;
using static TrustedLaunch.ArmTemplates.Tests.TemplateHarness;

namespace TrustedLaunch.ArmTemplates.Tests;

public class FunctionTests
{
    private const string Parameters = """
        {"name": {"type": "string", "defaultValue": "MyVm"}, "count": {"type": "int", "defaultValue": 3},
         "on": {"type": "bool", "defaultValue": true}, "tags": {"type": "object", "defaultValue": {"env": "test"}},
         "zones": {"type": "array", "defaultValue": ["1", "2"]}}
        """;

    private const string Variables = """
        {"images": {"Ubuntu-2204": {"publisher": "Canonical", "sku": "22_04-lts-gen2"}}, "prefix": "[concat(parameters('name'), '-')]",
         "list": [10, 20, 30]}
        """;

    [Theory]
    // strings
    [InlineData("[concat('a', 'b', 'c')]", "\"abc\"")]
    [InlineData("[concat('n', 1, true())]", "\"n1True\"")]
    [InlineData("[concat(createArray(1, 2), createArray(3))]", "[1,2,3]")]
    [InlineData("[format('{0}-{1}', 'a', 2)]", "\"a-2\"")]
    [InlineData("[format('{0:D3}', 7)]", "\"007\"")]
    [InlineData("[format('{{literal}} {0}', 'x')]", "\"{literal} x\"")]
    [InlineData("[toLower('MiXeD')]", "\"mixed\"")]
    [InlineData("[toUpper('MiXeD')]", "\"MIXED\"")]
    [InlineData("[substring('emptystring', 0, 0)]", "\"\"")]
    [InlineData("[substring('template', 2, 3)]", "\"mpl\"")]
    [InlineData("[substring('template', 2)]", "\"mplate\"")]
    [InlineData("[replace('a-b-c', '-', '.')]", "\"a.b.c\"")]
    [InlineData("[split('a,b', ',')]", "[\"a\",\"b\"]")]
    [InlineData("[trim('  x ')]", "\"x\"")]
    [InlineData("[startsWith('Standard_B2s', 'standard')]", "true")]
    [InlineData("[endsWith('vm.json', '.JSON')]", "true")]
    [InlineData("[indexOf('abcabc', 'c')]", "2")]
    [InlineData("[lastIndexOf('abcabc', 'c')]", "5")]
    [InlineData("[padLeft(7, 3, '0')]", "\"007\"")]
    [InlineData("[base64('one')]", "\"b25l\"")]
    // logical and comparison
    [InlineData("[true()]", "true")]
    [InlineData("[false()]", "false")]
    [InlineData("[and(true(), true(), false())]", "false")]
    [InlineData("[and(true(), true())]", "true")]
    [InlineData("[or(false(), true())]", "true")]
    [InlineData("[or(false(), false())]", "false")]
    [InlineData("[not(false())]", "true")]
    [InlineData("[equals('a', 'a')]", "true")]
    [InlineData("[equals('a', 'A')]", "false")]
    [InlineData("[equals(1, 1)]", "true")]
    [InlineData("[equals(createObject('a', 1), json('{\"A\": 1}'))]", "true")]
    [InlineData("[equals(createArray(1, 2), createArray(2, 1))]", "false")]
    [InlineData("[if(true(), 'yes', 'no')]", "\"yes\"")]
    [InlineData("[if(false(), 'yes', 'no')]", "\"no\"")]
    [InlineData("[if(false(), json('null'), 3)]", "3")]
    [InlineData("[if(true(), null(), 3)]", "null")]
    // only the chosen branch is evaluated: the other would fail
    [InlineData("[if(true(), 'safe', substring('x', 5, 5))]", "\"safe\"")]
    [InlineData("[less(1, 2)]", "true")]
    [InlineData("[greaterOrEquals('b', 'a')]", "true")]
    [InlineData("[bool('True')]", "true")]
    [InlineData("[bool('false')]", "false")]
    [InlineData("[bool(0)]", "false")]
    [InlineData("[bool(1)]", "true")]
    [InlineData("[coalesce(null(), 'x')]", "\"x\"")]
    // conversions and values
    [InlineData("[string(12)]", "\"12\"")]
    [InlineData("[string(true())]", "\"True\"")]
    [InlineData("[string(createObject('a', 1))]", "\"{\\u0022a\\u0022:1}\"")]
    [InlineData("[string('s')]", "\"s\"")]
    [InlineData("[int('42')]", "42")]
    [InlineData("[int(-5)]", "-5")]
    [InlineData("[json('{\"a\": [1, 2]}').a[1]]", "2")]
    [InlineData("[json('null')]", "null")]
    [InlineData("[json('true')]", "true")]
    [InlineData("[length('four')]", "4")]
    [InlineData("[length(createArray(1, 2, 3))]", "3")]
    [InlineData("[length(createObject('a', 1, 'b', 2))]", "2")]
    [InlineData("[empty('')]", "true")]
    [InlineData("[empty(createArray())]", "true")]
    [InlineData("[contains(createArray('a', 'b'), 'b')]", "true")]
    [InlineData("[contains('Trusted', 'rust')]", "true")]
    [InlineData("[contains(createObject('Key', 1), 'key')]", "true")]
    [InlineData("[union(createObject('a', 1), createObject('b', 2))]", "{\"a\":1,\"b\":2}")]
    [InlineData("[union(createArray(1, 2), createArray(2, 3))]", "[1,2,3]")]
    [InlineData("[first(createArray('x', 'y'))]", "\"x\"")]
    [InlineData("[last('xyz')]", "\"z\"")]
    [InlineData("[range(5, 3)]", "[5,6,7]")]
    [InlineData("[add(2, 3)]", "5")]
    [InlineData("[sub(2, 3)]", "-1")]
    [InlineData("[mul(4, 3)]", "12")]
    [InlineData("[div(7, 2)]", "3")]
    [InlineData("[mod(7, 2)]", "1")]
    [InlineData("[min(3, 1, 2)]", "1")]
    [InlineData("[max(createArray(3, 9, 2))]", "9")]
    [InlineData("[array('x')]", "[\"x\"]")]
    // parameters and variables
    [InlineData("[parameters('name')]", "\"MyVm\"")]
    [InlineData("[parameters('NAME')]", "\"MyVm\"")]
    [InlineData("[parameters('count')]", "3")]
    [InlineData("[parameters('on')]", "true")]
    [InlineData("[parameters('tags').env]", "\"test\"")]
    [InlineData("[parameters('zones')[1]]", "\"2\"")]
    [InlineData("[variables('images')['Ubuntu-2204'].sku]", "\"22_04-lts-gen2\"")]
    [InlineData("[variables('IMAGES')['Ubuntu-2204'].Publisher]", "\"Canonical\"")]
    [InlineData("[variables('prefix')]", "\"MyVm-\"")]
    [InlineData("[variables('list')[2]]", "30")]
    // scope
    [InlineData("[resourceGroup().name]", "\"my-rg\"")]
    [InlineData("[resourceGroup().location]", "\"westus\"")]
    [InlineData("[resourceGroup().id]", "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg\"")]
    [InlineData("[subscription().subscriptionId]", "\"00000000-0000-0000-0000-000000000000\"")]
    [InlineData("[subscription().id]", "\"/subscriptions/00000000-0000-0000-0000-000000000000\"")]
    [InlineData("[deployment().name]", "\"deploy1\"")]
    // resource ids
    [InlineData("[resourceId('Microsoft.Network/networkInterfaces', 'nic')]",
        "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg/providers/Microsoft.Network/networkInterfaces/nic\"")]
    [InlineData("[resourceId('Microsoft.Network/networkInterfaces/', 'nic')]",
        "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg/providers/Microsoft.Network/networkInterfaces/nic\"")]
    [InlineData("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'default')]",
        "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default\"")]
    [InlineData("[resourceId('other-rg', 'Microsoft.Compute/virtualMachines', 'vm')]",
        "\"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/other-rg/providers/Microsoft.Compute/virtualMachines/vm\"")]
    [InlineData("[resourceId('11111111-1111-1111-1111-111111111111', 'rg2', 'Microsoft.Compute/virtualMachines', 'vm')]",
        "\"/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg2/providers/Microsoft.Compute/virtualMachines/vm\"")]
    [InlineData("[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg')]",
        "\"/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Resources/resourceGroups/rg\"")]
    // literal strings and escapes
    [InlineData("[[not evaluated]", "\"[not evaluated]\"")]
    [InlineData("plain text", "\"plain text\"")]
    [InlineData("[concat('it''s')]", "\"it\\u0027s\"")]
    public void Evaluate_Expression_AnswersAsArm(string expression, string expected) =>
        Assert.Equal(expected, Evaluate(expression, Parameters, Variables));

    [Theory]
    [InlineData("[substring('abc', 2, 5)]", "substring", "within the string")]
    [InlineData("[substring('abc', -1)]", "substring", "within the string")]
    [InlineData("[toLower(1)]", "toLower", "expected 'String'")]
    [InlineData("[toUpper()]", "toUpper", "takes 1 argument")]
    [InlineData("[int('four')]", "int", "cannot be converted to an integer")]
    [InlineData("[bool('yes')]", "bool", "cannot be converted to a boolean")]
    [InlineData("[json('{not json')]", "json", "not valid JSON")]
    [InlineData("[not('true')]", "not", "expected 'Bool'")]
    [InlineData("[and(true())]", "and", "at least 2")]
    [InlineData("[div(1, 0)]", "div", "division by zero")]
    [InlineData("[add(9223372036854775807, 1)]", "add", "64-bit")]
    [InlineData("[format('{1}', 'a')]", "format", "not valid")]
    [InlineData("[length(1)]", "length", "expected 'String, Array or Object'")]
    [InlineData("[concat('a', createArray(1))]", "concat", "concat joins")]
    [InlineData("[less('a', 1)]", "less", "compares two integers or two strings")]
    [InlineData("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet')]", "resourceId", "needs 2 resource name segment(s)")]
    [InlineData("[resourceId('vm')]", "resourceId", "takes at least 2")]
    [InlineData("[copyIndex()]", "copyIndex", "outside a copy loop")]
    [InlineData("[createObject('a')]", "createObject", "pairs")]
    [InlineData("[if(1, 'a', 'b')]", "if", "not 'Bool'")]
    [InlineData("[uniqueString()]", "uniqueString", "at least 1")]
    [InlineData("[uniqueString(1)]", "uniqueString", "expected 'String'")]
    public void Evaluate_BadArguments_NamesFunctionAndReason(string expression, string function, string reason)
    {
        var error = Assert.Throws<TemplateEvaluationException>(() => Evaluate(expression));
        Assert.Contains($"'{function}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal("outputs.result.value", error.Target);
    }

    [Theory]
    [InlineData("[parameters('missing')]", "The template parameter 'missing' is not found")]
    [InlineData("[variables('missing')]", "The template variable 'missing' is not found")]
    [InlineData("[createObject('a', 1).b]", "The language expression property 'b' doesn't exist, available properties are 'a'")]
    [InlineData("[createArray(1)[3]]", "index '3' is out of bounds")]
    [InlineData("['text'.length]", "the target is of type 'String'")]
    [InlineData("[createObject('a', 1)[true()]]", "must be an integer or a string")]
    public void Evaluate_BadAccess_SaysWhat(string expression, string message)
    {
        var error = Assert.Throws<TemplateEvaluationException>(() => Evaluate(expression));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_UnknownFunction_FailsValidationNamingIt()
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => Evaluate("[concat(listKeys('x', '2020-01-01'), notAFunction())]"));
        Assert.Contains("'listKeys'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'notAFunction'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reference_DeployedResource_AnswersPropertiesOrFull()
    {
        var resolver = new MapResolver();
        string id = Id("Microsoft.Network/publicIPAddresses", "ip");
        resolver.States[id] = new JsonObject { ["id"] = id, ["properties"] = new JsonObject { ["dnsSettings"] = new JsonObject { ["fqdn"] = "ip.westus.example" } } };
        Assert.Equal("\"ip.westus.example\"",
            Evaluate("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'), '2021-05-01').dnsSettings.fqdn]", references: resolver));
        Assert.Equal($"\"{id}\"", Evaluate("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'), '2021-05-01', 'Full').id]", references: resolver));
    }

    [Fact]
    public void Reference_NotDeployed_SaysSo()
    {
        var error = Assert.Throws<TemplateEvaluationException>(() => Evaluate("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'))]"));
        Assert.Contains("has not been deployed yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reference_InVariables_IsRefused()
    {
        var error = Assert.Throws<TemplateEvaluationException>(() =>
            Evaluate("[variables('v')]", variables: """{"v": "[reference('x')]"}"""));
        Assert.Contains("only in resource properties and outputs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionTable_HasEveryFunctionTheIssueNames()
    {
        string[] required =
        [
            "parameters", "variables", "concat", "format", "toLower", "toUpper", "uniqueString", "resourceGroup", "subscription", "resourceId",
            "reference", "if", "equals", "and", "or", "not", "true", "false", "json", "substring", "length", "string", "int", "bool",
        ];
        Assert.All(required, name => Assert.True(Functions.FunctionTable.IsKnown(name), name));
        Assert.False(Functions.FunctionTable.IsKnown("listKeys"));
    }
}
