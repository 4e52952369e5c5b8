#!/usr/bin/env bash
# Builds the TrustedLaunch Debian package from `dotnet publish` (docs/install.md):
#   tl              NativeAOT (the tool verbs), /usr/lib/trustedlaunch/tl, /usr/bin/tl
#   tl-server       self-contained .NET (linux-x64), tl.dll's apphost beside tl: the verbs tl execs it for (the services)
#   tl-vtpm         NativeAOT, beside tl (tl finds it there), /usr/bin/tl-vtpm
#   tl-guest-agent  NativeAOT, beside tl (what `tl image build` puts in the guest image)
#   systemd units, /etc/trustedlaunch/*.env, the docs in /usr/share/doc/trustedlaunch
# Usage: packaging/build-deb.sh [--version V] [--name NAME] [--output DIR] [--work DIR]
#   --version  Debian version (default: packaging/VERSION + ~git<date>.<commit>)
#   --name     package name (default trustedlaunch; another name declares Conflicts: trustedlaunch, for tests)
#   --output   where the .deb goes (default artifacts/deb); its path is the last line printed
#   --work     staging and build folder (default: a temporary one, removed at the end)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
name=trustedlaunch
version=""
output="$root/artifacts/deb"
work=""
while [ $# -gt 0 ]; do
    case "$1" in
        --version) version="$2"; shift 2 ;;
        --name) name="$2"; shift 2 ;;
        --output) output="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        *) echo "build-deb: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$version" ]; then
    base="$(cat "$root/packaging/VERSION")"
    commit="$(git -C "$root" rev-parse --short=10 HEAD 2>/dev/null || echo unknown)"
    version="${base}~git$(date -u +%Y%m%d).${commit}"
fi
if ! [[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then
    echo "build-deb: '$version' is not a Debian version" >&2; exit 2
fi
if ! [[ "$name" =~ ^[a-z0-9][a-z0-9.+-]+$ ]]; then
    echo "build-deb: '$name' is not a Debian package name" >&2; exit 2
fi
for tool in dotnet dpkg-deb clang; do
    command -v "$tool" >/dev/null || { echo "build-deb: $tool is required (scripts/install-deps.sh)" >&2; exit 3; }
done

cleanup=""
if [ -z "$work" ]; then
    work="$(mktemp -d /tmp/tl-deb.XXXXXX)"
    cleanup="$work"
fi
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT
stage="$work/stage"
rm -rf "$stage"
lib="$stage/usr/lib/trustedlaunch"
doc="$stage/usr/share/doc/$name"
mkdir -p "$lib" "$doc" "$stage/usr/bin" "$stage/usr/lib/systemd/system" "$stage/etc/trustedlaunch" "$stage/DEBIAN"

# Assembly versions must be numeric: the leading x.y.z of the Debian version. `tl --version` prints the whole of it.
numeric="$(echo "$version" | grep -oE '^[0-9]+(\.[0-9]+){0,2}')"
props=(-c Release -r linux-x64 "-p:Version=$numeric" "-p:InformationalVersion=$version"
       -p:IncludeSourceRevisionInInformationalVersion=false --artifacts-path "$work/artifacts" -v q -clp:ErrorsOnly)
echo "build-deb: publishing tl-server (self-contained), tl, tl-vtpm and tl-guest-agent (NativeAOT) $version" >&2
dotnet publish "$root/src/TrustedLaunch.Cli/TrustedLaunch.Cli.csproj" "${props[@]}" --self-contained -p:PublishReadyToRun=false -o "$work/tl" >&2
dotnet publish "$root/src/TrustedLaunch.Cli.Native/TrustedLaunch.Cli.Native.csproj" "${props[@]}" -o "$work/tl-native" >&2
dotnet publish "$root/src/TrustedLaunch.VTpm.Host/TrustedLaunch.VTpm.Host.csproj" "${props[@]}" -o "$work/tl-vtpm" >&2
dotnet publish "$root/src/TrustedLaunch.GuestAgent/TrustedLaunch.GuestAgent.csproj" "${props[@]}" -o "$work/tl-guest-agent" >&2

cp -a "$work/tl/." "$lib/"
mv "$lib/tl" "$lib/tl-server"   # tl.dll's apphost; the name tl is the NativeAOT tl's (installed below)
find "$lib" -name '*.pdb' -delete
# Debian's modes: files 0644 (shared libraries too), programs 0755 (the runtime pack ships some as 0744).
find "$lib" -type f -exec chmod 0644 {} +
chmod 0755 "$lib/tl-server" "$lib/createdump"
install -m 0755 "$work/tl-native/tl" "$lib/tl"
install -m 0755 "$work/tl-vtpm/tl-vtpm" "$lib/tl-vtpm"
install -m 0755 "$work/tl-guest-agent/tl-guest-agent" "$lib/tl-guest-agent"
ln -s ../lib/trustedlaunch/tl "$stage/usr/bin/tl"
ln -s ../lib/trustedlaunch/tl-vtpm "$stage/usr/bin/tl-vtpm"

install -m 0644 "$root/packaging/systemd/trustedlaunch-server.service" "$root/packaging/systemd/trustedlaunch-host.service" "$stage/usr/lib/systemd/system/"
install -m 0644 "$root/packaging/etc/server.env" "$root/packaging/etc/host.env" "$stage/etc/trustedlaunch/"
install -m 0644 "$root/README.md" "$root"/docs/*.md "$doc/"
if [ -d "$root/docs/dashboards" ]; then
    mkdir -p "$doc/dashboards" && install -m 0644 "$root"/docs/dashboards/* "$doc/dashboards/"
fi
printf 'TrustedLaunch %s\nBuilt from %s by packaging/build-deb.sh.\n' "$version" "$(git -C "$root" rev-parse HEAD 2>/dev/null || echo 'a source tree')" > "$doc/BUILD"

install -m 0755 "$root/packaging/debian/postinst" "$root/packaging/debian/prerm" "$root/packaging/debian/postrm" "$stage/DEBIAN/"
printf '/etc/trustedlaunch/server.env\n/etc/trustedlaunch/host.env\n' > "$stage/DEBIAN/conffiles"
conflicts=""
[ "$name" != trustedlaunch ] && conflicts="Conflicts: trustedlaunch\n"
size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s/@NAME@/$name/g" -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@CONFLICTS@/$conflicts/" \
    "$root/packaging/debian/control.in" > "$stage/DEBIAN/control"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"

mkdir -p "$output"
deb="$output/${name}_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
