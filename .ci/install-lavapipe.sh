#!/usr/bin/env bash
# Make a fast lavapipe (Mesa's Vulkan-on-the-CPU driver) available to this project
# WITHOUT changing the system's Mesa.
#
# Debian bookworm's own mesa-vulkan-drivers (Mesa 22.3.6) runs compute 5-7x slower than
# Mesa 25.x from bookworm-backports. This script downloads the backports driver (and
# whatever libraries the system lacks at the needed version, e.g. libdrm) with a private
# apt configuration, unpacks the .debs into .cache/lavapipe/root with `dpkg -x`, and writes
# .cache/lavapipe/lvp_icd.json whose library_path is the absolute path of the unpacked
# libvulkan_lvp.so. `.ci/env.sh` then points VK_ICD_FILENAMES and LD_LIBRARY_PATH there.
#
# The only system change is `apt-get install libvulkan1` (the Vulkan loader) when it is
# missing. If the backports route fails, it falls back to the system's mesa-vulkan-drivers.
#
# Idempotent: once .cache/lavapipe/lvp_icd.json (or the fallback marker) exists, it does
# nothing and touches no network.
#
# Usage: .ci/install-lavapipe.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.cache/lavapipe"
ICD="$DEST/lvp_icd.json"
FALLBACK_MARK="$DEST/system-mesa"
export DEBIAN_FRONTEND=noninteractive

log() { echo "install-lavapipe: $*" >&2; }

if [[ "${1:-}" == "--force" ]]; then
    rm -rf "$DEST"
fi

if [[ -f "$ICD" ]]; then
    lib="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ICD"]["library_path"])' "$ICD")"
    if [[ -f "$lib" ]]; then
        exit 0
    fi
    log "stale $ICD (missing $lib); reinstalling"
    rm -rf "$DEST"
fi
if [[ -f "$FALLBACK_MARK" ]] && dpkg -s mesa-vulkan-drivers >/dev/null 2>&1; then
    log "using the system's mesa-vulkan-drivers (an earlier backports set-up failed);" \
        "run .ci/install-lavapipe.sh --force to retry"
    exit 0
fi

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

gpu_present() {
    [[ -e /dev/nvidia0 ]] || compgen -G "/dev/dri/renderD*" >/dev/null
}

apt_lists_empty() {
    ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null
}

system_apt_install() {
    # apt-get install with one `apt-get update` retry (a fresh machine has no lists).
    if apt_lists_empty; then $SUDO apt-get update -qq || true; fi
    if ! $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    fi
}

# 1. The Vulkan loader (libvulkan.so.1), from the system.
if ! dpkg -s libvulkan1 >/dev/null 2>&1; then
    log "installing libvulkan1 (the Vulkan loader)"
    system_apt_install libvulkan1
fi

# 2. Mesa from bookworm-backports, unpacked privately.
mirror_host() {
    # Reuse the Debian mirror this machine is configured with (deb822 or one-line format).
    local uri
    uri="$(
        {
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p'
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
                | sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p'
        } | tr ' ' '\n' | grep -E '^https?://[^ ]+/debian/?$' | head -n1
    )" || true
    echo "${uri:-http://deb.debian.org/debian}"
}

# Runs as an `if` condition, where `set -e` is off: every step carries its own `|| return 1`.
install_backports() {
    local mirror codename work keyring signed opts
    mirror="$(mirror_host)"
    mirror="${mirror%/}"
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
    work="$DEST/apt"
    rm -rf "$DEST"
    mkdir -p "$work/etc" "$work/lists/partial" "$work/cache/archives/partial" "$DEST/root"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    signed=""
    if [[ -f "$keyring" ]]; then signed="[signed-by=$keyring] "; fi
    # The base suites are listed too, so that apt can resolve (and fetch) any dependency
    # the system lacks; only what the installed system does not satisfy is downloaded.
    cat >"$work/etc/sources.list" <<EOF
deb ${signed}${mirror} ${codename} main
deb ${signed}${mirror} ${codename}-updates main
deb ${signed}${mirror} ${codename}-backports main
EOF
    opts=(
        -o "Dir::Etc::SourceList=$work/etc/sources.list"
        -o "Dir::Etc::SourceParts=$work/etc/none"
        -o "Dir::State::Lists=$work/lists"
        -o "Dir::Cache=$work/cache"
        -o "Debug::NoLocking=1"
        -o "APT::Get::List-Cleanup=0"
    )
    log "fetching package lists for ${codename}-backports from ${mirror} (private apt state)"
    apt-get "${opts[@]}" -qq update >&2 || return 1
    local want="mesa-vulkan-drivers/${codename}-backports"
    log "downloading ${want} and the libraries the system lacks"
    # --download-only against the real dpkg status: fetches the backports driver and just
    # the dependencies that the installed system does not satisfy (e.g. libdrm >= 2.4.121).
    apt-get "${opts[@]}" -y -qq --download-only --no-install-recommends \
        install "$want" >&2 || return 1
    local debs=("$work"/cache/archives/*.deb)
    if [[ ! -f "${debs[0]}" ]]; then
        log "no .deb downloaded"
        return 1
    fi
    local d
    for d in "${debs[@]}"; do
        log "  unpacking $(basename "$d")"
        dpkg -x "$d" "$DEST/root" || return 1
    done
    local lvp src_icd
    lvp="$(find "$DEST/root" -name 'libvulkan_lvp.so' -print -quit)"
    src_icd="$(find "$DEST/root" -path '*/vulkan/icd.d/lvp_icd*.json' -print -quit)"
    if [[ -z "$lvp" || -z "$src_icd" ]]; then
        log "libvulkan_lvp.so or lvp_icd.json missing from the unpacked packages"
        return 1
    fi
    # Library dirs of the unpacked tree, for LD_LIBRARY_PATH.
    find "$DEST/root" -name '*.so*' -printf '%h\n' | sort -u >"$DEST/libdirs" || return 1
    python3 - "$src_icd" "$lvp" "$ICD.tmp" <<'PY'
import json, sys
src, lib, out = sys.argv[1:]
with open(src) as f:
    icd = json.load(f)
icd["ICD"]["library_path"] = lib
with open(out, "w") as f:
    json.dump(icd, f, indent=4)
    f.write("\n")
PY
    [[ -f "$ICD.tmp" ]] || return 1
    # Check that it really loads before declaring success.
    local libpath
    libpath="$(paste -sd: "$DEST/libdirs")"
    if LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$lvp" | grep -q 'not found'; then
        log "unpacked libvulkan_lvp.so has unresolved libraries:"
        LD_LIBRARY_PATH="$libpath" ldd "$lvp" | grep 'not found' >&2
        return 1
    fi
    local ver
    ver="$(dpkg-deb -f "$work"/cache/archives/mesa-vulkan-drivers_*.deb Version 2>/dev/null || echo '?')"
    echo "$ver" >"$DEST/mesa-version"
    rm -rf "$work"
    mv "$ICD.tmp" "$ICD"
    log "lavapipe (Mesa $ver) ready: $ICD"
}

start=$(date +%s)
if install_backports; then
    log "done in $(($(date +%s) - start)) s"
    exit 0
fi

log "WARNING: could not set up Mesa from ${codename:-bookworm}-backports;" \
    "falling back to the system's mesa-vulkan-drivers (Mesa 22 on bookworm: 5-7x slower)"
rm -rf "$DEST"
mkdir -p "$DEST"
if ! dpkg -s mesa-vulkan-drivers >/dev/null 2>&1; then
    if ! system_apt_install mesa-vulkan-drivers; then
        if [[ "${ENGINE_USE_LAVAPIPE:-}" != "1" ]] && gpu_present; then
            log "WARNING: no lavapipe at all; going on with the GPU's own Vulkan driver"
            exit 0
        fi
        log "ERROR: no Vulkan driver could be installed"
        exit 1
    fi
fi
echo "system mesa-vulkan-drivers in use" >"$FALLBACK_MARK"
