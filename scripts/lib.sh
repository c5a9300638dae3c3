# Shared by the scripts in this folder: paths, logging, root/sudo.
set -euo pipefail
GENZOO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GENZOO_BUILD="${GENZOO_BUILD:-$GENZOO_ROOT/build}"
say() { printf '[genzoo] %s\n' "$*" >&2; }
die() { printf '[genzoo] error: %s\n' "$*" >&2; exit 2; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}
