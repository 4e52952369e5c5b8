#!/usr/bin/env bash
# Regenerates the screenshots of docs/portal.md: runs the portal's browser tests (real tl server, real TCG boots,
# Debian's chromium) with TL_PORTAL_SCREENSHOTS pointing at docs/portal, then quantizes the PNGs (pngquant) so the
# repository stays small. Every page of the portal is captured by one of these tests (docs/portal.md lists them).
# Usage: scripts/portal-screenshots.sh [test filter]   (default: every browser test of TrustedLaunch.Portal.Tests)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
filter="${1:-Category=Integration}"
"$root/scripts/install-deps.sh"
flock /tmp/tl-build.lock dotnet build "$root/tests/TrustedLaunch.Portal.Tests" -c Release -v q -clp:ErrorsOnly
TL_PORTAL_SCREENSHOTS="$root/docs/portal" flock /tmp/tl-boot.lock \
  dotnet test "$root/tests/TrustedLaunch.Portal.Tests" -c Release --no-build --filter "$filter"
# 256 colours at most; a file pngquant cannot shrink is kept as it is (exit 98/99 are "not smaller", "quality too low").
for png in "$root/docs/portal"/*.png; do
  pngquant --force --skip-if-larger --strip --quality 50-90 --ext .png -- "$png" || { rc=$?; [ "$rc" -eq 98 ] || [ "$rc" -eq 99 ]; }
done
ls -sh1 "$root/docs/portal"/*.png
