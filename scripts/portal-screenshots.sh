#!/usr/bin/env bash
# Regenerates the screenshots of docs/portal.md: runs the portal's browser tests (real tl server, real TCG boots,
# Debian's chromium) with TL_PORTAL_SCREENSHOTS pointing at docs/portal.
# Usage: scripts/portal-screenshots.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
flock /tmp/tl-build.lock dotnet build "$root/tests/TrustedLaunch.Portal.Tests" -c Release -v q -clp:ErrorsOnly
TL_PORTAL_SCREENSHOTS="$root/docs/portal" flock /tmp/tl-boot.lock \
  dotnet test "$root/tests/TrustedLaunch.Portal.Tests" -c Release --no-build --filter "FullyQualifiedName~PortalBrowserTests"
ls -1 "$root/docs/portal"/*.png
