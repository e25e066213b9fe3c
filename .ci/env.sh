# Source this file (`. .ci/env.sh`) to run the engine on the project's lavapipe.
#
# It exports VK_ICD_FILENAMES and LD_LIBRARY_PATH pointing at the Mesa that
# .ci/install-lavapipe.sh unpacked into .cache/lavapipe, unless a real GPU is present
# (/dev/nvidia0, /dev/dri/renderD*). ENGINE_USE_LAVAPIPE=1 forces lavapipe, =0 never uses it.
# The Makefile sources it before every command that touches the GPU.

_engine_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_engine_lvp="$_engine_root/.cache/lavapipe"

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

_engine_use_lvp="${ENGINE_USE_LAVAPIPE:-}"
if [ -z "$_engine_use_lvp" ]; then
    if [ -e /dev/nvidia0 ] || ls /dev/dri/renderD* >/dev/null 2>&1; then
        _engine_use_lvp=0
    else
        _engine_use_lvp=1
    fi
fi

if [ "$_engine_use_lvp" = "1" ] && [ -f "$_engine_lvp/lvp_icd.json" ]; then
    export VK_ICD_FILENAMES="$_engine_lvp/lvp_icd.json"
    _engine_libs="$(paste -sd: "$_engine_lvp/libdirs" 2>/dev/null)"
    if [ -n "$_engine_libs" ]; then
        export LD_LIBRARY_PATH="$_engine_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    unset _engine_libs
fi

unset _engine_root _engine_lvp _engine_use_lvp
