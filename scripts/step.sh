#!/usr/bin/env bash
# One set-up step of the Makefile: say what it is, run it, say how long it took.
# Usage: scripts/step.sh "<what>" <command> [args...]
set -euo pipefail
what=$1
shift
printf '==> %s\n' "$what"
start=$(date +%s%N)
"$@"
elapsed=$(( ($(date +%s%N) - start) / 100000000 ))
printf '    done in %d.%d s\n' $((elapsed / 10)) $((elapsed % 10))
