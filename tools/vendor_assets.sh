#!/usr/bin/env bash
# Refreshes static/vendor/ from the npm registry at the versions pinned in package.json.
# Run by hand when a version changes; the copied files are committed, so neither
# `make run` nor production needs npm or a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp package.json "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund)
nm="$work/node_modules"
rm -rf static/vendor && mkdir -p static/vendor/{htmx,pico,leaflet,chartjs}
cp "$nm/htmx.org/dist/htmx.min.js" "$nm/htmx.org/LICENSE" static/vendor/htmx/
cp "$nm/@picocss/pico/css/pico.min.css" "$nm/@picocss/pico/LICENSE.md" static/vendor/pico/
# Source maps go along: a published file names its map, and collectstatic under the
# production storage follows that name (and fails when the file is not there).
cp -r "$nm/leaflet/dist/leaflet.js" "$nm/leaflet/dist/leaflet.js.map" "$nm/leaflet/dist/leaflet.css" "$nm/leaflet/dist/images" \
      "$nm/leaflet/LICENSE" static/vendor/leaflet/
cp "$nm/chart.js/dist/chart.umd.min.js" "$nm/chart.js/dist/chart.umd.min.js.map" "$nm/chart.js/LICENSE.md" \
      static/vendor/chartjs/
echo "static/vendor refreshed from package.json"
