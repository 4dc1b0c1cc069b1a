#!/usr/bin/env bash
# Build the live peers the end-to-end tests start (an OpenTelemetry Collector, Prometheus 3
# and Jaeger v2) from their Go modules at the versions pinned in this folder, into the peer
# cache, outside the repository:
#
#   ${TALLY_PEERS_DIR:-$HOME/.cache/tally-peers}/<name>-<version>/<name>
#
# A peer whose binary is already there is not built again (delete its folder to rebuild),
# so a warm run takes seconds. Versions: test/peers/versions.json names them (and so the
# cache folders, which test/peers/cache.ts reads too); each peer's go.mod/go.sum pins them
# (otelcol: builder-config.yaml and the generated otelcol/dist/go.mod). This script checks
# that the two agree and stops if not.
#
# Usage: bash test/peers/build.sh [otelcol|prometheus3|jaeger ...]   (default: all three)
#
# Needs Go 1.26 (GOTOOLCHAIN defaults to local: no toolchain is downloaded behind your back)
# and node (for reading versions.json; node_modules/.bin/node after npm ci will do). Module
# downloads go through the Go module proxy into Go's own module cache ($HOME/go), which
# stays warm for later builds. Every build's full output is kept in <cache folder>/build.log.
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${TALLY_PEERS_DIR:-$HOME/.cache/tally-peers}"
: "${GOTOOLCHAIN:=local}"
export GOTOOLCHAIN
export CGO_ENABLED=0

die() {
  echo "build.sh: $*" >&2
  exit 1
}

command -v go >/dev/null || die "go not found on PATH: install Go 1.26"
if command -v node >/dev/null; then
  node=node
elif [[ -x "$repo/node_modules/.bin/node" ]]; then
  node="$repo/node_modules/.bin/node"
else
  die "node not found on PATH nor in node_modules/.bin (run npm ci): it reads test/peers/versions.json"
fi

# shellcheck disable=SC2016 # the single quotes are node's, not the shell's
read -r v_otelcol v_prometheus3 v_jaeger < <("$node" -p '
  const v = require(process.argv[1]);
  for (const k of ["otelcol", "prometheus3", "jaeger"]) {
    if (typeof v[k] !== "string" || !/^\d+\.\d+\.\d+$/.test(v[k])) throw new Error(`versions.json: "${k}" must be a version like 1.2.3`);
  }
  [v.otelcol, v.prometheus3, v.jaeger].join(" ")' "$here/versions.json")
[[ -n "${v_jaeger:-}" ]] || die "could not read $here/versions.json"
declare -A versions=([otelcol]="$v_otelcol" [prometheus3]="$v_prometheus3" [jaeger]="$v_jaeger")

# The version of `module` that go.mod `file` requires, or nothing.
required_version() {
  awk -v m="$2" '($1 == m && $2 ~ /^v/) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "$1"
}

# Stop unless go.mod `file` requires `module` at `want`.
expect_version() {
  local file=$1 module=$2 want=$3 got
  got="$(required_version "$file" "$module")"
  [[ "$got" == "$want" ]] || die "$file requires $module ${got:-(nothing)}, but versions.json means $want: pin it there (go get $module@$want; see test/peers/README.md) or fix versions.json"
}

# Each build_<peer> VERSION OUT runs under `set -e` in a subshell, its output sent to build.log.

build_otelcol() {
  local version=$1 out=$2
  grep -Eq "^  version: ${version//./\\.}\$" "$here/otelcol/builder-config.yaml" \
    || die "otelcol/builder-config.yaml: dist.version is not $version (versions.json)"
  expect_version "$here/otelcol/go.mod" go.opentelemetry.io/collector/cmd/builder "v$version"
  cd "$here/otelcol"
  # ocb (pinned in otelcol/go.mod) regenerates dist/ from the manifest and tidies dist/go.mod
  # against the committed dist/go.sum; strict versioning fails on any module at another release.
  go tool builder --config builder-config.yaml --skip-compilation --skip-strict-versioning=false
  expect_version "$here/otelcol/dist/go.mod" go.opentelemetry.io/collector/otelcol "v$version"
  # ocb's own compile step, done here so the binary goes straight to the cache.
  go -C dist build -mod=readonly -trimpath -ldflags='-s -w' -o "$out" .
}

build_prometheus3() {
  local version=$1 out=$2 module major minor patch
  # Prometheus 3.X.Y is the Go module version v0.3XX.Y.
  IFS=. read -r major minor patch <<<"$version"
  [[ "$major" == 3 ]] || die "prometheus3: $version is not a Prometheus 3 version"
  module="$(printf 'v0.3%02d.%d' "$minor" "$patch")"
  expect_version "$here/prometheus3/go.mod" github.com/prometheus/prometheus "$module"
  # Release builds set these through promu; without them /api/v1/status/buildinfo says "".
  # Tag netgo as upstream does; builtinassets left out: the web UI is not needed, the API is.
  local v=github.com/prometheus/common/version
  go -C "$here/prometheus3" build -mod=readonly -trimpath -tags netgo \
    -ldflags="-s -w -X $v.Version=$version -X $v.Revision=$module -X $v.Branch=HEAD -X $v.BuildUser=tally-peers" \
    -o "$out" github.com/prometheus/prometheus/cmd/prometheus
}

build_jaeger() {
  local version=$1 out=$2
  expect_version "$here/jaeger/go.mod" github.com/jaegertracing/jaeger "v$version"
  local v=github.com/jaegertracing/jaeger/internal/version
  go -C "$here/jaeger" build -mod=readonly -trimpath \
    -ldflags="-s -w -X $v.latestVersion=v$version -X $v.commitSHA=v$version" \
    -o "$out" github.com/jaegertracing/jaeger/cmd/jaeger
}

# Seconds since `start` (an $EPOCHREALTIME), one decimal.
since() {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# build_peer NAME VERSION: build unless cached; print what happened and how long it took.
build_peer() {
  local name=$1 version=$2 start=$EPOCHREALTIME
  local dir="$cache/$name-$version"
  local bin="$dir/$name"
  if [[ -x "$bin" ]]; then
    echo "$name $version: cached in $(since "$start") s ($bin)"
    return 0
  fi
  mkdir -p "$dir" || return 1
  echo "$name $version: building (log: $dir/build.log)"
  local status=0
  set +e
  (
    set -euo pipefail
    echo "# $name $version, $(go version), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    "build_$name" "$version" "$bin.tmp"
  ) >"$dir/build.log" 2>&1
  status=$?
  set -e
  if [[ $status -ne 0 ]]; then
    rm -f "$bin.tmp"
    echo "$name $version: FAILED after $(since "$start") s; the end of $dir/build.log:" >&2
    tail -n 40 "$dir/build.log" >&2
    return 1
  fi
  mv -f "$bin.tmp" "$bin" || return 1
  echo "$name $version: built in $(since "$start") s ($bin, $(du -h "$bin" | cut -f1))"
}

peers=("$@")
[[ ${#peers[@]} -gt 0 ]] || peers=(otelcol prometheus3 jaeger)
for peer in "${peers[@]}"; do
  case "$peer" in
    otelcol | prometheus3 | jaeger) ;;
    -h | --help)
      sed -n '2,19p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown peer '$peer' (otelcol, prometheus3, jaeger)" ;;
  esac
done

total_start=$EPOCHREALTIME
failed=()
for peer in "${peers[@]}"; do
  build_peer "$peer" "${versions[$peer]}" || failed+=("$peer")
done
echo "peers: ${#peers[@]} in $(since "$total_start") s, cache $cache ($(du -sh "$cache" 2>/dev/null | cut -f1))"
[[ ${#failed[@]} -eq 0 ]] || die "failed: ${failed[*]}"
