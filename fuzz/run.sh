#!/usr/bin/env bash
# Fuzzes one parser family with AFL++ through SharpFuzz for a given time (docs/fuzzing.md).
# Usage: fuzz/run.sh TARGET SECONDS [--save]
#        fuzz/run.sh --save TARGET   (save the last run of TARGET without fuzzing again)
#        fuzz/run.sh --list
#   TARGET    a name from --list (eventlog, tpm, pe, efi-variables, ovmf-vars, vmgs, modsig, guest-frame,
#             evidence, arm-vm-body)
#   SECONDS   how long afl-fuzz runs (its -V)
#   --save    afterwards, minimise the queue (afl-cmin) into fuzz/corpus/TARGET/ (inputs up to 16 KB, the smallest
#             first, at most 48 KB a target) and copy any crash or hang up to 16 KB there as crash-*/hang-*; the replay test
#             (tests/TrustedLaunch.Fuzz.Tests) runs every file there through the parser on each ./test.
# Seeds: the test corpus and golden files (TrustedLaunch.Fuzz --seeds), the Debian boot chain for pe and modsig
# (scripts/fetch-debian-boot-chain.sh), and the saved fuzz/corpus/TARGET/.
# Works in artifacts/fuzz/: bin/ (the build), instrumented/ (SharpFuzz's rewrite of the TrustedLaunch assemblies),
# TARGET/seeds, TARGET/findings (afl-fuzz -o). Prints the run's execs_done, execs_per_sec, crashes and hangs.
# Environment: FUZZ_NICE (default 19) for nice, FUZZ_TIMEOUT_MS (default 2000) for a hang.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$root/fuzz/TrustedLaunch.Fuzz/TrustedLaunch.Fuzz.csproj"
work="$root/artifacts/fuzz"
bin="$work/bin"
instrumented="$work/instrumented"

build() {
  # Rebuilt only when a source is newer than the last build, as ./tl does.
  if [ ! -f "$bin/TrustedLaunch.Fuzz.dll" ] || [ -n "$(find "$root/src" "$root/fuzz/TrustedLaunch.Fuzz" \
        "$root/Directory.Build.props" "$root/Directory.Packages.props" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' \) \
        -newer "$bin/TrustedLaunch.Fuzz.dll" -not -path '*/obj/*' -not -path '*/bin/*' -print -quit 2>/dev/null)" ]; then
    echo "fuzz: building…" >&2
    dotnet build "$project" -c Release --nologo -v q -clp:ErrorsOnly -o "$bin" >&2 || exit 3
    touch "$bin/TrustedLaunch.Fuzz.dll"
    rm -rf "$instrumented"
  fi
}

save_corpus() {
  saved="$root/fuzz/corpus/$target"
  mkdir -p "$saved"
  find "$saved" -maxdepth 1 -type f -name 'min-*' -delete
  nice -n "${FUZZ_NICE:-19}" afl-cmin -i "$dir/findings/default/queue" -o "$dir/cmin" -t "${FUZZ_TIMEOUT_MS:-2000}" -m none \
    -- "$dotnet" "$instrumented/TrustedLaunch.Fuzz.dll" "$target" >"$dir/cmin.log" 2>&1 || {
    echo "fuzz: afl-cmin failed, see $dir/cmin.log" >&2; exit 1; }
  total=0
  while IFS= read -r file; do
    size=$(stat -c %s "$file")
    [ "$size" -gt 16384 ] && continue
    [ $((total + size)) -gt 49152 ] && break
    total=$((total + size))
    cp "$file" "$saved/min-$(sha256sum "$file" | cut -c1-16)"
  done < <(find "$dir/cmin" -type f -printf '%s %p\n' | sort -n | cut -d' ' -f2-)
  for kind in crash hang; do
    for file in "$dir/findings/default/${kind/crash/crashe}s"/id:*; do
      [ -f "$file" ] || continue
      if [ "$(stat -c %s "$file")" -gt 16384 ]; then
        # Too big for the repository: the regression test rebuilds it from a real file instead.
        echo "fuzz: $kind $file is over 16 KB, not saved; write its regression test from a real sample" >&2
        continue
      fi
      cp "$file" "$saved/$kind-$(sha256sum "$file" | cut -c1-16)"
    done
  done
  echo "fuzz: saved $(find "$saved" -maxdepth 1 -type f | wc -l) files ($total bytes minimised) in fuzz/corpus/$target" >&2
}

if [ "${1:-}" = "--list" ]; then
  build
  exec dotnet "$bin/TrustedLaunch.Fuzz.dll" --list
fi
if [ "${1:-}" = "--save" ] && [ $# -eq 2 ]; then
  # Saves the last run of TARGET (artifacts/fuzz/TARGET) without fuzzing again.
  target=$2
  dir="$work/$target"
  dotnet=$(command -v dotnet)
  [ -f "$dir/findings/default/fuzzer_stats" ] || { echo "fuzz: no run of $target in $dir" >&2; exit 2; }
  export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
  save_corpus
  exit 0
fi
if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
target=$1
seconds=$2
save=0
[ "${3:-}" = "--save" ] && save=1

command -v afl-fuzz >/dev/null 2>&1 || "$root/scripts/install-deps.sh" afl++ || exit 3
dotnet=$(command -v dotnet)   # afl-fuzz and afl-cmin want the target's full path
cd "$root"
dotnet tool restore >/dev/null || exit 3
build
if ! dotnet "$bin/TrustedLaunch.Fuzz.dll" --list | cut -f1 | grep -qx "$target"; then
  echo "fuzz: unknown target '$target'; fuzz/run.sh --list names them" >&2
  exit 2
fi

# SharpFuzz rewrites the assemblies in place to report branch coverage to AFL++; the harness and the
# runtime stay as they are, so only TrustedLaunch code counts as coverage.
if [ ! -f "$instrumented/.done" ]; then
  rm -rf "$instrumented"
  cp -r "$bin" "$instrumented"
  for dll in "$instrumented"/TrustedLaunch.*.dll; do
    [ "$(basename "$dll")" = "TrustedLaunch.Fuzz.dll" ] && continue
    dotnet sharpfuzz "$dll" >/dev/null || { echo "fuzz: sharpfuzz could not instrument $dll" >&2; exit 3; }
  done
  touch "$instrumented/.done"
fi

extra=()
case "$target" in
  pe|efi-variables|modsig)
    paths=$("$root/scripts/fetch-debian-boot-chain.sh" --print-paths | grep '=' || true)
    fb=$(echo "$paths" | sed -n 's/^fb=//p')
    modules=$(echo "$paths" | sed -n 's/^modules=//p')
    [ -n "$fb" ] && extra+=("$fb")
    if [ "$target" = modsig ] && [ -n "$modules" ]; then
      # The smallest signed modules: the signature is most of each file.
      while IFS= read -r ko; do extra+=("$ko"); done < <(find "$modules" -name '*.ko' -size -12k -print0 \
        | xargs -0 ls -S 2>/dev/null | tail -n 4)
    fi
    ;;
esac

dir="$work/$target"
rm -rf "$dir"
mkdir -p "$dir/seeds"
dotnet "$bin/TrustedLaunch.Fuzz.dll" --seeds "$target" "$dir/seeds" "$root" "${extra[@]}" >&2
if [ -d "$root/fuzz/corpus/$target" ]; then
  find "$root/fuzz/corpus/$target" -maxdepth 1 -type f ! -name 'README*' -exec cp {} "$dir/seeds/" \;
fi

export AFL_SKIP_BIN_CHECK=1                       # the target is `dotnet`, not an afl-instrumented binary
export AFL_NO_UI=1 AFL_QUIET=1
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1       # a shared machine: no CPU pinning, no governor demands
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1    # core_pattern may pipe to a handler inside a container
export AFL_TMPDIR="$dir"
echo "fuzz: $target for ${seconds}s" >&2
nice -n "${FUZZ_NICE:-19}" afl-fuzz -i "$dir/seeds" -o "$dir/findings" -V "$seconds" -t "${FUZZ_TIMEOUT_MS:-2000}" -m none \
  -- "$dotnet" "$instrumented/TrustedLaunch.Fuzz.dll" "$target" >"$dir/afl.log" 2>&1 || {
  echo "fuzz: afl-fuzz failed, see $dir/afl.log" >&2; tail -n 30 "$dir/afl.log" >&2; exit 1; }

stats="$dir/findings/default/fuzzer_stats"
field() { sed -n "s/^$1 *: *//p" "$stats"; }
crashes=$(find "$dir/findings/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$dir/findings/default/hangs" -type f -name 'id:*' | wc -l)
echo "target=$target seconds=$seconds execs_done=$(field execs_done) execs_per_sec=$(field execs_per_sec) corpus_count=$(field corpus_count) crashes=$crashes hangs=$hangs date=$(date -u +%F)"

[ "$save" = 1 ] && save_corpus
exit 0
