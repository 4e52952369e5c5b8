namespace TrustedLaunch.ArmTemplates;

/// <summary>
/// Why a template cannot be deployed, with ARM's error code (<c>InvalidTemplate</c> for what validation finds,
/// <c>InvalidTemplateDeployment</c> for parameters, <c>DeploymentFailed</c>-inner errors for evaluation at deploy time)
/// and where in the template it was found (<see cref="Target"/>, a JSON path such as <c>resources[2].properties</c>).
/// </summary>
public class ArmTemplateException : Exception
{
    public ArmTemplateException(string code, string message, string? target = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        Target = target;
    }

    public ArmTemplateException()
        : this("InvalidTemplate", "The template is not valid.")
    {
    }

    public ArmTemplateException(string message)
        : this("InvalidTemplate", message)
    {
    }

    public ArmTemplateException(string message, Exception innerException)
        : this("InvalidTemplate", message, null, innerException)
    {
    }

    public string Code { get; } = "InvalidTemplate";

    public string? Target { get; }
}

/// <summary>The template text, an expression or a section is malformed (ARM: <c>InvalidTemplate</c>).</summary>
public sealed class TemplateSyntaxException : ArmTemplateException
{
    public TemplateSyntaxException(string message, string? target = null)
        : base("InvalidTemplate", message, target)
    {
    }

    public TemplateSyntaxException()
    {
    }

    public TemplateSyntaxException(string message)
        : base(message)
    {
    }

    public TemplateSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A parameter value is missing, unknown, of the wrong type or not allowed (ARM: <c>InvalidTemplate</c>).</summary>
public sealed class TemplateParameterException : ArmTemplateException
{
    public TemplateParameterException(string message, string? target = null)
        : base("InvalidTemplate", message, target)
    {
    }

    public TemplateParameterException()
    {
    }

    public TemplateParameterException(string message)
        : base(message)
    {
    }

    public TemplateParameterException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A function was called with arguments it cannot take, a name or property does not exist, a loop or dependency
/// goes in a circle (ARM: <c>InvalidTemplate</c>; at deploy time the inner error of <c>DeploymentFailed</c>).
/// </summary>
public sealed class TemplateEvaluationException : ArmTemplateException
{
    public TemplateEvaluationException(string message, string? target = null)
        : base("InvalidTemplate", message, target)
    {
    }

    public TemplateEvaluationException()
    {
    }

    public TemplateEvaluationException(string message)
        : base(message)
    {
    }

    public TemplateEvaluationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
