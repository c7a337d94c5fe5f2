#!/usr/bin/env bash
# Runs Faultline's tests on a fresh Debian machine: installs what the tests
# need (as root), then go vet, the whole test suite and a short fuzz run of
# every parser. Usage: scripts/test.sh   (FAULTLINE_FUZZTIME=30s for longer fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if ! command -v go >/dev/null; then
  echo "scripts/test.sh: Go 1.26 or newer is needed (https://go.dev/dl/)" >&2
  exit 1
fi

# Packages for the cluster, fault and real-database tests (root only; tests
# that need them skip with a reason otherwise).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  scripts/install-deps.sh
fi

# Reference histories from the Knossos, Porcupine and Elle test suites, when
# this checkout sits beside them.
if [ -z "${FAULTLINE_SHARED_DATA:-}" ]; then
  for d in ../shared/data /work/shared/data; do
    if [ -f "$d/MANIFEST.md" ]; then export FAULTLINE_SHARED_DATA="$(cd "$d" && pwd)"; break; fi
  done
fi

# Screenshots of the browser test and other test artefacts are kept here.
export FAULTLINE_ARTIFACTS="${FAULTLINE_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$FAULTLINE_ARTIFACTS"

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 30m ./...
echo "== fuzz"
fuzztime="${FAULTLINE_FUZZTIME:-10s}"
# fuzz_one runs one target. A failure that wrote no failing input is Go's
# fuzz coordinator racing its own -fuzztime deadline ("context deadline
# exceeded", go.dev/issue/75804, fixed in Go 1.27): it is retried once and
# then reported as a warning. A failure that wrote an input fails the run.
fuzz_one() {
  local pkg=$1 dir=$2 target=$3 attempt before out
  for attempt in 1 2; do
    before=$(ls "$dir/testdata/fuzz/$target" 2>/dev/null | sort || true)
    if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
      return 0
    fi
    if [ "$(ls "$dir/testdata/fuzz/$target" 2>/dev/null | sort)" != "$before" ]; then
      printf '%s\n' "$out" | tail -n 40
      echo "fuzz target $target of $pkg failed; the input is kept under $dir/testdata/fuzz/$target" >&2
      return 1
    fi
    printf '%s\n' "$out" | tail -n 3
    echo "warning: $target stopped with an error but wrote no failing input (attempt $attempt)" >&2
  done
  return 0
}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "-- $pkg $target ($fuzztime)"
    fuzz_one "$pkg" "$dir" "$target"
  done
done
echo "== all tests passed"
