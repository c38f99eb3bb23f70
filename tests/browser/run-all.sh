#!/usr/bin/env bash
# Runs every browser test of the console against fresh servers of a prebuilt gridmap binary (SQLite in a temporary
# folder, console files served from this checkout's web/ with --web-dir), one chromium at a time, the way
# tests/console.rs does: console.mjs and the suites below on a server with access control off, keys.mjs on one with
# it on, basemap.mjs on one with a GCJ-02 base map. For console work without cargo; CI runs them through cargo test.
# Usage: tests/browser/run-all.sh [GRIDMAP_BINARY] [SUITE…]   (default binary: target/debug/gridmap; suites: all)
# Screenshots: target/console-screenshots/<suite>/
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/debug/gridmap}
shift || true
want=("$@")
root=$PWD
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; }
trap 'stop; rm -rf "$tmp"' EXIT
serve() { # fresh database, then serve with extra options
    stop
    rm -rf "$tmp/db" && mkdir -p "$tmp/db"
    "$bin" serve --db "sqlite://$tmp/db/g.db" --listen "127.0.0.1:$port" --web-dir "$root/web" "$@" >"$tmp/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        if curl -sf "$base/readyz" | grep -q '"tiles_prepared":true'; then return 0; fi
        sleep 0.1
    done
    cat "$tmp/server.log" >&2
    return 1
}
selected() { [ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" $1 "* ]]; }
failed=()
run() { # suite, then its arguments
    local suite=$1
    shift
    echo "== $suite"
    if node "tests/browser/$suite.mjs" "$@"; then echo "== $suite passed"; else echo "== $suite FAILED"; failed+=("$suite"); fi
}
shots=$root/target/console-screenshots
# Every suite taking BASE SHOTS FIXTURES (all but the helpers and the two needing a special server).
for file in tests/browser/*.mjs; do
    suite=$(basename "$file" .mjs)
    case $suite in common | fixtures | keys | basemap | eslint.config) continue ;; esac
    selected "$suite" || continue
    serve
    fx=$(node tests/browser/fixtures.mjs "$base" "$tmp/fx")
    run "$suite" "$base" "$shots/$suite" "$fx"
done
if selected keys; then
    serve --auth on
    secret=$("$bin" keys create --db "sqlite://$tmp/db/g.db" --role dispatcher --name console 2>/dev/null | grep -Eo '[A-Za-z0-9_.-]{20,}' | tail -1)
    incident=$(curl -sf -H "authorization: Bearer $secret" -H 'content-type: application/json' \
        -d '{"location":[118.79,32.02],"category":"fire"}' "$base/api/v1/incidents" | sed -E 's/.*"id":([0-9]+).*/\1/')
    run keys "$base" "$shots/keys" "$secret" "$incident"
fi
if selected basemap; then
    vendor=http://vendor.invalid
    # An offline base map: the sample's own tiles exported to a PMTiles archive, served back with --basemap-pmtiles.
    serve
    "$bin" export-tiles --db "sqlite://$tmp/db/g.db" --layers streets,communities --minzoom 10 --maxzoom 15 \
        --out "$tmp/offline.pmtiles" >/dev/null 2>&1
    serve --basemap-url "$vendor/{z}/{x}/{y}.png" --basemap-crs gcj02 --basemap-pmtiles "$tmp/offline.pmtiles"
    # The GCJ-02 position of [118.79, 32.02] (the console's own transform, as gridmap's Rust one).
    mark=$(node --input-type=module -e "
      const { wgs84ToGcj02 } = await import('$root/web/js/gcj02.js').catch(() => ({}));
      console.log(JSON.stringify(wgs84ToGcj02 ? wgs84ToGcj02(118.79, 32.02) : null));" 2>/dev/null || echo null)
    run basemap "$base" "$shots/basemap" "{\"point\":[118.79,32.02],\"mark_gcj02\":$mark,\"vendor\":\"$vendor\",\"archive\":\"offline\"}"
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all browser suites passed"
