using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Expressions;

namespace TrustedLaunch.ArmTemplates.Tests;

public class ExpressionParserTests
{
    [Theory]
    [InlineData("[concat('a', 'b')]", true)]
    [InlineData("[[notAnExpression]", false)]
    [InlineData("plain", false)]
    [InlineData("[]", true)]
    [InlineData("[", false)]
    public void IsExpression_Brackets_DecidesAsArm(string text, bool expected) => Assert.Equal(expected, ExpressionParser.IsExpression(text));

    [Fact]
    public void Unescape_DoubleBracket_LeavesOneBracket() => Assert.Equal("[notAnExpression]", ExpressionParser.Unescape("[[notAnExpression]"));

    [Fact]
    public void Parse_NestedCallWithPropertyAndIndex_BuildsTree()
    {
        Expression parsed = ExpressionParser.Parse("[variables('x')[parameters('os')].sku]");
        var property = Assert.IsType<PropertyAccessExpression>(parsed);
        Assert.Equal("sku", property.Property);
        var index = Assert.IsType<IndexAccessExpression>(property.Target);
        var target = Assert.IsType<FunctionCallExpression>(index.Target);
        Assert.Equal("variables", target.Name);
        Assert.IsType<FunctionCallExpression>(index.Index);
    }

    [Fact]
    public void Parse_QuoteInString_IsDoubled()
    {
        var call = Assert.IsType<FunctionCallExpression>(ExpressionParser.Parse("[concat('it''s', ' ok')]"));
        Assert.Equal("it's", Assert.IsType<LiteralExpression>(call.Arguments[0]).Value!.GetValue<string>());
    }

    [Fact]
    public void Parse_NegativeInteger_IsLiteral()
    {
        var call = Assert.IsType<FunctionCallExpression>(ExpressionParser.Parse("[add(-3, 4)]"));
        Assert.Equal(-3, Assert.IsType<LiteralExpression>(call.Arguments[0]).Value!.GetValue<long>());
    }

    [Theory]
    [InlineData("unclosed string", "[concat('a)]")]
    [InlineData("missing paren", "[concat('a'")]
    [InlineData("trailing text", "[concat('a') 'b']")]
    [InlineData("empty", "[]")]
    [InlineData("bare word", "[parameters]")]
    [InlineData("number too large", "[add(99999999999999999999, 1)]")]
    [InlineData("dot without name", "[resourceGroup().]")]
    [InlineData("missing comma", "[concat('a' 'b')]")]
    public void Parse_Malformed_ThrowsSyntax(string label, string text)
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => ExpressionParser.Parse(text, "outputs.x"));
        Assert.Equal("InvalidTemplate", error.Code);
        Assert.Equal("outputs.x", error.Target);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(label);
    }

    [Fact]
    public void Parse_Whitespace_IsAllowedBetweenTokens()
    {
        var call = Assert.IsType<FunctionCallExpression>(ExpressionParser.Parse("[ concat ( 'a' , 'b' ) ]"));
        Assert.Equal(2, call.Arguments.Count);
        Assert.Equal(JsonValue.Create("b")!.ToJsonString(), Assert.IsType<LiteralExpression>(call.Arguments[1]).Value!.ToJsonString());
    }
}
