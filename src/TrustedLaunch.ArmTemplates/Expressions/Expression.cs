using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Expressions;

/// <summary>A parsed template language expression (the text between <c>[</c> and <c>]</c> of a template string).</summary>
public abstract record Expression;

/// <summary>A string or integer literal.</summary>
public sealed record LiteralExpression(JsonNode? Value) : Expression;

/// <summary><c>name(arg, …)</c>; names are case-insensitive.</summary>
public sealed record FunctionCallExpression(string Name, IReadOnlyList<Expression> Arguments) : Expression;

/// <summary><c>target.property</c></summary>
public sealed record PropertyAccessExpression(Expression Target, string Property) : Expression;

/// <summary><c>target[index]</c>: an array element or, with a string index, an object property.</summary>
public sealed record IndexAccessExpression(Expression Target, Expression Index) : Expression;
