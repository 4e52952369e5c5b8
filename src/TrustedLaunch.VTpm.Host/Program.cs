// tl-vtpm: the per-VM vTPM process. Implemented under issue 3 (vTPM).
await Console.Error.WriteLineAsync("tl-vtpm: not built yet.").ConfigureAwait(false);
return 3;
