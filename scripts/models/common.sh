# shellcheck shell=bash
# Shared by scripts/models/make-test-models and make-bench-models. Source it after scripts/lib.sh.
# make_model regenerates a model folder only when its stamp (hash of the generator, its inputs and
# its arguments) changed, builds it beside the final place, checks it through ONNX Runtime, and
# then swaps it in, so an interrupted run never leaves half a folder behind.

MODELS_PY=/usr/bin/python3  # Debian's: python3-onnx and python3-numpy live there, not in pyenv's
MODELS_SCRIPT="$MOSAIC_ROOT/scripts/models/clip_onnx.py"
MODELZOO_DIR=${MODELZOO_DIR:-$MOSAIC_ROOT/.cache/npm/modelzoo-0.0.4/package}
CLIP_DATA="$MODELZOO_DIR/test/clip_data.json"
CLIP_VOCAB="$MODELZOO_DIR/bpe_simple_vocab_16e6.txt"
ORT_DIR="$MOSAIC_ROOT/third_party/onnxruntime"
ORT_CHECK_BIN="$MOSAIC_ROOT/.cache/models-tools/ort_check"

# Dies unless /usr/bin/python3 can import onnx and numpy, and the modelzoo inputs are there.
models_require() {
  [[ -x $MODELS_PY ]] || die "$MODELS_PY not found: scripts/models needs Debian's python3 (apt-get install python3-onnx python3-numpy)"
  "$MODELS_PY" -c 'import onnx, numpy' 2>/dev/null ||
    die "$MODELS_PY cannot import onnx and numpy: run scripts/setup or apt-get install python3-onnx python3-numpy"
  [[ -f $CLIP_DATA && -f $CLIP_VOCAB ]] ||
    die "npm modelzoo@0.0.4 is not unpacked in $MODELZOO_DIR (scripts/setup fetches it)"
}

# Builds scripts/models/ort_check.cc against ONNX Runtime when stale; prints nothing. Returns 1 when
# ONNX Runtime is not there yet (then the check is skipped).
ort_check_build() {
  [[ -f $ORT_DIR/lib/libonnxruntime.so.1 && -f $ORT_DIR/include/onnxruntime_cxx_api.h ]] || return 1
  local src="$MOSAIC_ROOT/scripts/models/ort_check.cc"
  if [[ ! -x $ORT_CHECK_BIN || $src -nt $ORT_CHECK_BIN || $ORT_DIR/lib/libonnxruntime.so.1 -nt $ORT_CHECK_BIN ]]; then
    mkdir -p "$(dirname "$ORT_CHECK_BIN")"
    g++ -std=c++20 -O1 -I "$ORT_DIR/include" "$src" -o "$ORT_CHECK_BIN" \
      -L "$ORT_DIR/lib" -lonnxruntime -Wl,-rpath,"$ORT_DIR/lib" || die "cannot build $src"
  fi
}

# make_model DIR SUBCOMMAND ARGS...: runs `clip_onnx.py SUBCOMMAND ARGS... --out DIR` unless DIR's
# stamp matches; then runs DIR/reference.json through ONNX Runtime (when it is installed).
make_model() {
  local dir=$1
  shift
  local want
  want=$({
    printf '%s\n' "$@"
    sha256sum "$MODELS_SCRIPT" "$MOSAIC_ROOT/scripts/models/ort_check.cc" | cut -d' ' -f1
    case $1 in
      tiny-vit) sha256sum "$CLIP_DATA" | cut -d' ' -f1 ;;
      random) sha256sum "$CLIP_VOCAB" | cut -d' ' -f1 ;;
    esac
  } | sha256sum | cut -d' ' -f1)
  if [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$want" ]]; then
    return 0
  fi
  log "making $(basename "$dir") (scripts/models/clip_onnx.py $*)"
  local next="$dir.new"
  rm -rf "$next"
  "$MODELS_PY" "$MODELS_SCRIPT" "$@" --out "$next" >/dev/null ||
    { rm -rf "$next"; die "clip_onnx.py $* failed"; }
  if [[ -f $next/reference.json ]]; then
    if ort_check_build; then
      "$ORT_CHECK_BIN" "$next/reference.json" 2>&1 | sed 's/^/    /' >&2
      [[ ${PIPESTATUS[0]} -eq 0 ]] ||
        { rm -rf "$next"; die "$(basename "$dir"): ONNX Runtime disagrees with the reference outputs"; }
    else
      log "ONNX Runtime not installed yet: not checking $(basename "$dir") through it"
    fi
  fi
  echo "$want" >"$next/.stamp"
  rm -rf "$dir"
  mv "$next" "$dir"
}
