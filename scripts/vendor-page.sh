#!/usr/bin/env bash
# Re-fetch the page's vendored JavaScript libraries at their pinned versions from the
# npm registry (`npm pack`, which checks each tarball against the registry's integrity
# hash) and check the copied files against SHA256SUMS. The files are committed, so
# users never run this; maintainers run it (`make vendor`) to verify or to upgrade
# (change a version here, run with --update-sums, review the diff).
set -euo pipefail

DEST="$(cd "$(dirname "$0")/.." && pwd)/api/servicegraph_api/page/static/vendor"

# package@version  file in the tarball  ->  name in DEST
FILES=(
  "cytoscape@3.34.4 package/dist/cytoscape.min.js cytoscape.min.js"
  "cytoscape@3.34.4 package/LICENSE cytoscape.LICENSE"
  "cytoscape-dagre@4.0.1 package/dist/cytoscape-dagre.min.js cytoscape-dagre.min.js"
  "cytoscape-dagre@4.0.1 package/LICENSE cytoscape-dagre.LICENSE"
  # cytoscape-dagre's file bundles dagre 3.0.0 and graphlib 4.0.1: their licences.
  "@dagrejs/dagre@3.0.0 package/LICENSE dagre.LICENSE"
  "@dagrejs/graphlib@4.0.1 package/LICENSE graphlib.LICENSE"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$DEST"
for entry in "${FILES[@]}"; do
  read -r spec member name <<<"$entry"
  dir="$work/${spec//[@\/]/_}"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    tarball=$(cd "$dir" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)
    tar -xzf "$dir/$tarball" -C "$dir"
  fi
  cp "$dir/$member" "$DEST/$name"
  echo "$spec $member -> $name"
done

cd "$DEST"
if [ "${1:-}" = "--update-sums" ]; then
  sha256sum cytoscape.min.js cytoscape-dagre.min.js *.LICENSE > SHA256SUMS
  echo "SHA256SUMS updated"
else
  sha256sum --check --quiet SHA256SUMS
  echo "vendored files match SHA256SUMS"
fi
