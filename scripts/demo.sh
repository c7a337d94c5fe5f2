#!/usr/bin/env bash
# The main job: on a fresh Debian machine (as root), installs what is needed
# (iproute2, nftables, etcd...), builds faultline, and runs a 60-second etcd
# register test on a local 5-node cluster with partitions and kills. It ends
# with the verdict, the summary and the path of the report.
# Usage: scripts/demo.sh [extra faultline test options]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "scripts/demo.sh: Go 1.26 or newer is needed" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "scripts/demo.sh: run as root: the local cluster uses network namespaces" >&2
  exit 254
fi
command -v apt-get >/dev/null && scripts/install-deps.sh
go build -o bin/faultline ./cmd/faultline
set +e
bin/faultline test --db etcd --workload register --cluster netns --nemesis partition,kill --time-limit 60 "$@"
code=$?
set -e
if [ -e store/latest/index.html ]; then
  echo "report: $(readlink -f store/latest)/index.html   (or: bin/faultline serve, then http://127.0.0.1:8080/)"
fi
exit $code
