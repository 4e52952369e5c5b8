// tl references the ASP.NET Core shared framework for `tl server`, and that framework ships a source generator which
// makes a top-level-statements Program public (for WebApplicationFactory tests). tl is not a web app under test, and a
// public Program in tl.dll collides (CS0436) with the Program of every executable referencing tl (the benchmarks). The
// generator steps aside when Program has a second partial declaration, so this one keeps it internal.
#pragma warning disable CA1050 // Program is the compiler's global-namespace entry class; it cannot move into a namespace.
internal sealed partial class Program;
#pragma warning restore CA1050
