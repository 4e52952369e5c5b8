#!/usr/bin/env python3
"""Per-command TPM latency from QEMU's side, read from a `tl boot --qemu-trace 'tpm_*' --qemu-trace-file FILE` log.

QEMU's log backend writes `TID@SECONDS.MICROS:event args`. For the CRB interface one command is: the guest writes
CTRL_START (offset 0x4c) = 1 → QEMU's worker thread runs tpm_emulator_handle_request (the round trip to the vTPM:
write the command, read the response) → the main loop clears CTRL_START → the guest's next poll reads 0.
This prints, per boot: commands, the guest-visible time per command (START write → the poll that reads 0) and the
part of it before QEMU's worker even started (START → handle_request), the control-channel commands QEMU sent,
and the time between commands (the guest's own work).

With --vtpm-log (tl-vtpm's log of the same boot at --log level=20: one "cmd:" line per command, in order), each
command is named, and the guest time is split by the command that ended it: the gap before a PCR_Extend is the guest
computing what it measures (hashing it in every active bank) plus whatever else it did since the previous command.

Usage: bench/scripts/tpm-trace.py TRACE [TRACE...]
       bench/scripts/tpm-trace.py TRACE --vtpm-log VTPM.LOG
"""
import re
import statistics
import sys

LINE = re.compile(r"^(\d+)@(\d+\.\d+):(\w+) ?(.*)$")
START = 0x4C


def command_names(vtpm_log, count):
    names = [m.group(1) for m in (re.search(r" cmd: (\S+(?: PCR \d+)?) \(", l) for l in open(vtpm_log)) if m]
    # QEMU probes the TPM version with one command of its own on the data channel before the guest runs (not CRB).
    return names[len(names) - count:] if len(names) >= count else None


def summarize(path, vtpm_log=None):
    events = []
    for raw in open(path, errors="replace"):
        m = LINE.match(raw.strip())
        if m:
            events.append((float(m.group(2)), m.group(3), m.group(4)))
    if not events:
        return f"{path}: no timestamped events (was -msg timestamp=on given?)"
    started = handled = None
    commands, queued, gaps, others = [], [], [], {}
    timeline = []  # (start offset, guest time before it, command time)
    last_done = None
    for t, name, args in events:
        if name == "tpm_crb_mmio_write":
            a = re.search(r"0x([0-9a-f]+) len:\d+ val: 0x([0-9a-f]+)", args)
            if a and int(a.group(1), 16) == START and int(a.group(2), 16) & 1:
                started, handled = t, None
                if last_done is not None:
                    gaps.append(t - last_done)
                before = t - (last_done if last_done is not None else events[0][0])
        elif name == "tpm_emulator_handle_request" and started is not None:
            handled = t
        elif name == "tpm_crb_mmio_read" and started is not None:
            a = re.search(r"0x([0-9a-f]+) len:\d+ val: 0x([0-9a-f]+)", args)
            if a and int(a.group(1), 16) == START and not int(a.group(2), 16) & 1:
                commands.append(t - started)
                timeline.append((started - events[0][0], before, t - started))
                if handled is not None:
                    queued.append(handled - started)
                last_done, started = t, None
        elif not name.startswith("tpm_crb_mmio"):
            others[name] = others.get(name, 0) + 1

    def ms(values):
        if not values:
            return "-"
        q = statistics.quantiles(values, n=10) if len(values) > 1 else values
        return (f"n={len(values)} total {1000 * sum(values):.0f} ms, median {1000 * statistics.median(values):.2f} ms, "
                f"p90 {1000 * q[-1]:.2f} ms, max {1000 * max(values):.1f} ms")

    span = events[-1][0] - events[0][0]
    lines = [f"{path}: {span:.1f} s of trace",
             f"  command (START=1 → poll reads 0): {ms(commands)}",
             f"  START → QEMU worker's handle_request: {ms(queued)}",
             f"  between commands (guest work): {ms(gaps)}",
             "  other events: " + ", ".join(f"{k}={v}" for k, v in sorted(others.items()))]
    names = command_names(vtpm_log, len(timeline)) if vtpm_log else None
    if vtpm_log and names is None:
        lines.append(f"  {vtpm_log}: fewer cmd: lines than CRB commands (was tl-vtpm's --log level 20?)")
    if names:
        by_kind = {}
        for (at, before, took), name in zip(timeline, names):
            kind = name.split(" PCR")[0]
            n, g, c = by_kind.get(kind, (0, 0.0, 0.0))
            by_kind[kind] = (n + 1, g + before, c + took)
        lines.append("  guest time before each kind of command (and the commands' own time, QEMU's view):")
        for kind, (n, g, c) in sorted(by_kind.items(), key=lambda x: -x[1][1]):
            lines.append(f"    {kind:20} n={n:3}  guest before {g:6.2f} s  commands {1000 * c:7.1f} ms")
        lines.append("  the ten longest guest stretches, by the command that ended them:")
        for (at, before, took), name in sorted(zip(timeline, names), key=lambda x: -x[0][1])[:10]:
            lines.append(f"    at {at:6.2f} s: {1000 * before:7.0f} ms before {name}")
    return "\n".join(lines)


args = sys.argv[1:]
log = None
if "--vtpm-log" in args:
    i = args.index("--vtpm-log")
    log = args[i + 1]
    del args[i:i + 2]
for trace in args:
    print(summarize(trace, log))
