#!/bin/sh
# commandcenter-system-packages PACKAGE...
# Installs system packages with the image's own package manager, as root:
# apk (Alpine) or apt-get (Debian, Ubuntu), without recommended packages,
# leaving no package lists in the layer. Exits 78 when the image has
# neither, or when the package manager refuses (an unknown package): no
# retry changes that.
set -eu
if command -v apk >/dev/null 2>&1; then
	apk add --no-cache "$@" || exit 78
elif command -v apt-get >/dev/null 2>&1; then
	apt-get update -qq || exit 78
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" || exit 78
	rm -rf /var/lib/apt/lists/*
else
	echo "--backend-system-packages needs apk or apt-get in --python-image, which has neither: use an Alpine or Debian based image" >&2
	exit 78
fi
