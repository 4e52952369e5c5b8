using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Expressions;

/// <summary>
/// Parses template language expressions: a JSON string that starts with <c>[</c> and ends with <c>]</c> is an
/// expression (<c>[[</c> escapes a literal bracket); inside, function calls with string (<c>'…'</c>, <c>''</c> for a
/// quote) and integer literals, then any chain of <c>.property</c> and <c>[index]</c>.
/// </summary>
public static class ExpressionParser
{
    /// <summary>Whether <paramref name="text"/> is an expression rather than a literal string.</summary>
    public static bool IsExpression(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length >= 2 && text[0] == '[' && text[^1] == ']' && text[1] != '[';
    }

    /// <summary>The literal a non-expression string stands for (<c>[[x]</c> is the text <c>[x]</c>).</summary>
    public static string Unescape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length >= 2 && text[0] == '[' && text[1] == '[' && text[^1] == ']' ? text[1..] : text;
    }

    /// <summary>Parses the expression in <paramref name="text"/> (with its brackets).</summary>
    public static Expression Parse(string text, string? target = null)
    {
        if (!IsExpression(text))
            throw new TemplateSyntaxException($"The string '{text}' is not a template language expression.", target);
        var reader = new Reader(text, 1, text.Length - 1, target);
        Expression expression = reader.ReadExpression();
        reader.SkipWhitespace();
        if (!reader.AtEnd)
            reader.Fail("unexpected text after the expression");
        return expression;
    }

    private struct Reader
    {
        private readonly string text;
        private readonly int start;
        private readonly int end;
        private readonly string? target;
        private int _position;

        public Reader(string text, int start, int end, string? target)
        {
            this.text = text;
            this.start = start;
            this.end = end;
            this.target = target;
            _position = start;
        }

        public readonly bool AtEnd => _position >= end;

        public Expression ReadExpression()
        {
            SkipWhitespace();
            Expression expression = ReadPrimary();
            while (true)
            {
                SkipWhitespace();
                if (Peek('.'))
                {
                    _position++;
                    SkipWhitespace();
                    expression = new PropertyAccessExpression(expression, ReadIdentifier("a property name"));
                }
                else if (Peek('['))
                {
                    _position++;
                    Expression index = ReadExpression();
                    Expect(']');
                    expression = new IndexAccessExpression(expression, index);
                }
                else
                {
                    return expression;
                }
            }
        }

        public void SkipWhitespace()
        {
            while (_position < end && char.IsWhiteSpace(text[_position]))
                _position++;
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public readonly void Fail(string what) => throw new TemplateSyntaxException(
            $"The template language expression '{text}' is not valid: {what} at position {_position - start + 1}.", target);

        private Expression ReadPrimary()
        {
            if (AtEnd)
                Fail("the expression ends early");
            char c = text[_position];
            if (c == '\'')
                return new LiteralExpression(JsonValue.Create(ReadString()));
            if (c == '-' || char.IsAsciiDigit(c))
                return new LiteralExpression(JsonValue.Create(ReadInteger()));
            string name = ReadIdentifier("a function name, a string or a number");
            SkipWhitespace();
            Expect('(');
            var arguments = new List<Expression>();
            SkipWhitespace();
            if (Peek(')'))
            {
                _position++;
                return new FunctionCallExpression(name, arguments);
            }

            while (true)
            {
                arguments.Add(ReadExpression());
                SkipWhitespace();
                if (Peek(','))
                {
                    _position++;
                    continue;
                }

                Expect(')');
                return new FunctionCallExpression(name, arguments);
            }
        }

        private string ReadString()
        {
            _position++; // the opening quote
            var value = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                    Fail("a string literal is not closed");
                char c = text[_position++];
                if (c != '\'')
                {
                    value.Append(c);
                    continue;
                }

                // Two quotes inside a literal are one quote.
                if (_position < end && text[_position] == '\'')
                {
                    value.Append('\'');
                    _position++;
                    continue;
                }

                return value.ToString();
            }
        }

        private long ReadInteger()
        {
            int first = _position;
            if (text[_position] == '-')
                _position++;
            while (_position < end && char.IsAsciiDigit(text[_position]))
                _position++;
            if (!long.TryParse(text.AsSpan(first, _position - first), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                Fail("a number is not a 64-bit integer");
            return value;
        }

        private string ReadIdentifier(string what)
        {
            int first = _position;
            while (_position < end && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] == '_'))
                _position++;
            if (_position == first || char.IsAsciiDigit(text[first]))
                Fail($"expected {what}");
            return text[first.._position];
        }

        private readonly bool Peek(char c) => _position < end && text[_position] == c;

        private void Expect(char c)
        {
            SkipWhitespace();
            if (!Peek(c))
                Fail($"expected '{c}'");
            _position++;
        }
    }
}
