#!/usr/bin/env bash
# Sums the counters of every .trx file under DIR and prints "N passed, N failed, N skipped".
set -euo pipefail
dir=${1:-artifacts/test-results}
passed=0 failed=0 skipped=0
shopt -s nullglob globstar
for f in "$dir"/**/*.trx; do
  line=$(grep -o '<Counters [^>]*>' "$f" | head -n1) || continue
  get() { echo "$line" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
  # List failed tests by name so the log says what broke.
  grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$f" | grep -o 'testName="[^"]*"' | sed 's/^testName=/FAILED: /' || true
done
echo "$passed passed, $failed failed, $skipped skipped"
