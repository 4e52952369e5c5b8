using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Expressions;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>A template function: evaluated arguments in, a value out.</summary>
internal delegate JsonNode? TemplateFunction(FunctionCall call);

/// <summary>One call of a function with its evaluated arguments, and typed access to them that fails with ARM's wording.</summary>
internal readonly struct FunctionCall(string name, IReadOnlyList<JsonNode?> arguments, EvaluationContext context)
{
    public string Name { get; } = name;

    public IReadOnlyList<JsonNode?> Arguments { get; } = arguments;

    public EvaluationContext Context { get; } = context;

    public int Count => Arguments.Count;

    public FunctionCall Arity(int min, int max = int.MaxValue)
    {
        if (Count < min || Count > max)
        {
            string expected = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
            throw Fail($"it takes {expected} argument(s), not {Count}");
        }

        return this;
    }

    public string String(int index) => TemplateValues.TryGetString(Arguments[index], out string text) ? text : throw WrongType(index, "String");

    public long Int(int index) => TemplateValues.TryGetInt(Arguments[index], out long number) ? number : throw WrongType(index, "Int");

    public bool Bool(int index) => TemplateValues.TryGetBool(Arguments[index], out bool flag) ? flag : throw WrongType(index, "Bool");

    public TemplateValueKind Kind(int index) => TemplateValues.KindOf(Arguments[index]);

    public TemplateEvaluationException Fail(string reason) =>
        Context.Fail($"Unable to evaluate template language function '{Name}': {reason}.");

    public TemplateEvaluationException WrongType(int index, string expected) =>
        Fail($"argument {index + 1} is of type '{TemplateValues.KindOf(Arguments[index])}', expected '{expected}'");
}
