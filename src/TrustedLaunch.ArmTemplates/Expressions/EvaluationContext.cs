using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Expressions;

/// <summary>
/// What an expression can see while it is evaluated: the deployment's parameters and variables, its scope, the copy
/// loops it is inside, and (at deploy time only) the state of deployed resources for <c>reference()</c>.
/// </summary>
internal sealed class EvaluationContext
{
    private readonly Dictionary<string, int> _copyIndices;

    public EvaluationContext(TemplateScope scope, IReferenceResolver? references, string? target)
        : this(scope, references, target, new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase), null)
    {
    }

    private EvaluationContext(TemplateScope scope, IReferenceResolver? references, string? target, Dictionary<string, int> copyIndices, string? currentLoop)
    {
        Scope = scope;
        References = references;
        Target = target;
        _copyIndices = copyIndices;
        CurrentLoop = currentLoop;
    }

    public TemplateScope Scope { get; }

    public IReferenceResolver? References { get; }

    /// <summary>Where in the template the expression is (a JSON path), for error messages.</summary>
    public string? Target { get; }

    /// <summary>The innermost copy loop, what <c>copyIndex()</c> without a loop name counts.</summary>
    public string? CurrentLoop { get; }

    public EvaluationContext At(string? target) => new(Scope, References, target, _copyIndices, CurrentLoop);

    /// <summary>A context inside iteration <paramref name="index"/> of the copy loop <paramref name="loop"/>.</summary>
    public EvaluationContext InLoop(string loop, int index)
    {
        var indices = new Dictionary<string, int>(_copyIndices, StringComparer.OrdinalIgnoreCase) { [loop] = index };
        return new EvaluationContext(Scope, References, Target, indices, loop);
    }

    public bool TryGetCopyIndex(string? loop, out int index)
    {
        index = 0;
        string? name = loop ?? CurrentLoop;
        return name is not null && _copyIndices.TryGetValue(name, out index);
    }

    public TemplateEvaluationException Fail(string message) => new(message, Target);
}
