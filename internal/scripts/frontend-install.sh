#!/bin/sh
# commandcenter-frontend-install CACHE_DIR
# Installs the frontend's packages in the current directory with the tool
# its lockfile names: npm ci (package-lock.json or npm-shrinkwrap.json),
# pnpm (pnpm-lock.yaml) or yarn (yarn.lock), the latter two from the image
# or through corepack, or npm install without a lockfile. Downloads are
# cached in CACHE_DIR. Exits 78 when the image lacks the tool.
set -eu
cache=$1
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0 npm_config_store_dir="$cache/pnpm-store" YARN_CACHE_FOLDER="$cache/yarn"

# with_tool TOOL LOCKFILE ARG...: runs TOOL, installed or through corepack.
with_tool() {
	tool=$1 lock=$2
	shift 2
	if command -v "$tool" >/dev/null; then
		exec "$tool" "$@"
	elif command -v corepack >/dev/null; then
		exec corepack "$tool" "$@"
	fi
	echo "the frontend's $lock needs $tool, and this node image has neither $tool nor corepack: use a --node-image that has corepack (the official node images up to 24 do), or install with npm (package-lock.json)" >&2
	exit 78
}

if [ -f pnpm-lock.yaml ]; then
	with_tool pnpm pnpm-lock.yaml install --frozen-lockfile
elif [ -f yarn.lock ] && [ -f .yarnrc.yml ]; then
	with_tool yarn yarn.lock install --immutable
elif [ -f yarn.lock ]; then
	with_tool yarn yarn.lock install --frozen-lockfile --cache-folder "$YARN_CACHE_FOLDER"
elif [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; then
	exec npm ci --no-audit --no-fund --cache "$cache"
fi
exec npm install --no-audit --no-fund --cache "$cache"
