#!/usr/bin/env python3
"""commandcenter-app [--migrate N MIGRATION...] -- COMMAND [ARG...]
commandcenter-app --check FILE

Starts the backend's process. First, when COMMANDCENTER_ENV_FILE names the
app's dotenv file (--backend-env-file), its variables are added to the
environment: parsed here, never sourced by a shell. Then the first N
arguments, the migration (--backend-migrate), run to completion; if they
fail, the backend is not started and this exits 78, which the module does
not retry. Then COMMAND replaces this process.

--check FILE only parses FILE: the module runs it while it builds the
backend, so a bad file fails before anything starts. Errors name the line,
never a value. COMMANDCENTER_RESERVED_ENV lists the names the file may not
set, separated by spaces; names starting with COMMANDCENTER_ are reserved
too.
"""

import os
import re
import subprocess
import sys

EXIT_CONFIG = 78
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DOUBLE_QUOTED_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


class DotenvError(Exception):
    pass


def parse_value(raw, line_no):
    """The value of one line, without its quotes or trailing comment."""
    raw = raw.strip()
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end < 0:
            raise DotenvError("line %d: the single quote is not closed" % line_no)
        rest, value = raw[end + 1:], raw[1:end]
    elif raw[:1] == '"':
        chars, i = [], 1
        while i < len(raw) and raw[i] != '"':
            if raw[i] == "\\" and i + 1 < len(raw):
                i += 1
                chars.append(DOUBLE_QUOTED_ESCAPES.get(raw[i], "\\" + raw[i]))
            else:
                chars.append(raw[i])
            i += 1
        if i >= len(raw):
            raise DotenvError("line %d: the double quote is not closed" % line_no)
        rest, value = raw[i + 1:], "".join(chars)
    else:
        value, _, _ = raw.partition(" #")
        return value.strip()
    if rest.strip() and not rest.strip().startswith("#"):
        raise DotenvError("line %d: text after the closing quote" % line_no)
    return value


def parse(text, reserved):
    """The variables of a dotenv file: KEY=VALUE lines, optionally after
    "export ", with # comments and blank lines."""
    variables = {}
    for line_no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        name, eq, raw = stripped.partition("=")
        name = name.strip()
        if not eq:
            raise DotenvError("line %d: no '=': write KEY=VALUE" % line_no)
        if not NAME.match(name):
            raise DotenvError("line %d: %r is not a variable name" % (line_no, name))
        if name in reserved or name.startswith("COMMANDCENTER_"):
            raise DotenvError("line %d: %s is set by the module and cannot be changed" % (line_no, name))
        variables[name] = parse_value(raw, line_no)
    return variables


def load(path):
    reserved = set(os.environ.get("COMMANDCENTER_RESERVED_ENV", "").split())
    try:
        with open(path, encoding="utf-8") as f:
            return parse(f.read(), reserved)
    except (OSError, UnicodeDecodeError) as e:
        raise DotenvError("cannot read it: %s" % type(e).__name__)


def fail(message):
    sys.stderr.write("[commandcenter] %s\n" % message)
    sys.exit(EXIT_CONFIG)


def main(argv):
    if argv[:1] == ["--check"] and len(argv) == 2:
        try:
            load(argv[1])
        except DotenvError as e:
            fail("--backend-env-file %s" % e)
        return
    migration = []
    if argv[:1] == ["--migrate"]:
        count = int(argv[1])
        migration, argv = argv[2:2 + count], argv[2 + count:]
    if argv[:1] != ["--"] or len(argv) < 2:
        fail("usage: commandcenter-app [--migrate N MIGRATION...] -- COMMAND [ARG...]")
    command = argv[1:]
    env_file = os.environ.get("COMMANDCENTER_ENV_FILE")
    if env_file:
        try:
            os.environ.update(load(env_file))
        except DotenvError as e:
            fail("--backend-env-file %s" % e)
    if migration:
        code = subprocess.call(migration)
        if code != 0:
            fail("the migration (%s) exited with %d: the backend was not started" % (" ".join(migration), code))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
