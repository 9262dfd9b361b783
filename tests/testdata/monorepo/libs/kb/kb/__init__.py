"""The monorepo's library, which the backend installs with -e ../libs/kb."""

VERSION = "1.0"
