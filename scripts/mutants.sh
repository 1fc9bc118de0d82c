#!/usr/bin/env bash
# Mutation testing of the proof-critical crates: zkw-circuits (the constraints) and
# zkw-verifier (the checks). Every mutant must be caught by a test, or be listed in
# SECURITY.md with the reason it cannot change behaviour.
#
#   scripts/mutants.sh                 # both crates (hours on two cores: not part of CI)
#   scripts/mutants.sh -p zkw-verifier # one crate; any other cargo-mutants flag passes through
#
# Results land in mutants.out/ (caught.txt, missed.txt, unviable.txt, timeout.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=27.1.0
if [[ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $VERSION" ]]; then
    cargo install --locked "cargo-mutants@$VERSION"
fi

if [[ $# -eq 0 ]]; then
    set -- --package zkw-circuits --package zkw-verifier
fi
exec cargo mutants "$@"
