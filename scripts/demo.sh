#!/usr/bin/env bash
# Builds what is needed (scripts/setup.sh), then runs the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
node build/ts/examples/greeter/client.js "$@"
