#!/usr/bin/env bash
# The main job: on a fresh Debian machine (as root), installs what is needed,
# builds faultline and runs a real test, ending with the verdict, the summary
# and the path of the report. Usage: scripts/demo.sh [extra faultline test options]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "scripts/demo.sh: Go 1.26 or newer is needed" >&2; exit 1; }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  scripts/install-deps.sh
fi
go build -o bin/faultline ./cmd/faultline
set +e
bin/faultline test --db memory --workload register --concurrency 10 --time-limit 30 "$@"
code=$?
set -e
echo "report: $(readlink -f store/latest)"
exit $code
