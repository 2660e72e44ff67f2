#!/usr/bin/env python3
"""The image's bin/apply-config-from-env.py, rewritten for the `pulsar` test harness.

Rules, as the Pulsar image applies them to each properties file named on the command line:
- every line `key=value` (also `#key=value`, a commented-out default) defines `key` at that line;
- an environment variable whose name is exactly such a key replaces that line with `key=value`;
- a variable `PULSAR_PREFIX_<key>` (or `--prefix`) replaces the line of `<key>` when the file has
  it, else appends `<key>=value` at the end of the file;
- values are stripped of surrounding white space; variables are applied in sorted order.
"""
import argparse
import os
import sys


def apply(text: str, environ: dict, prefix: str) -> str:
    lines = text.splitlines(keepends=True)
    keys = {}
    for number, line in enumerate(lines):
        line = line.strip()
        if not line or "=" not in line:
            continue
        key = line.split("=", 1)[0]
        if key.startswith("#"):
            key = key[1:]
        keys[key.strip()] = number
    for name in sorted(environ):
        if name in keys:
            lines[keys[name]] = f"{name}={environ[name].strip()}\n"
    lines.append("\n")
    for name in sorted(environ):
        if not name.startswith(prefix):
            continue
        key, value = name[len(prefix):], environ[name].strip()
        if key in keys:
            lines[keys[key]] = f"{key}={value}\n"
        else:
            lines.append(f"{key}={value}\n")
    return "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default="PULSAR_PREFIX_")
    parser.add_argument("conf_files", nargs="*")
    args = parser.parse_args()
    if not args.conf_files:
        parser.print_help()
        return 1
    for path in args.conf_files:
        with open(path) as conf:
            text = conf.read()
        with open(path, "w") as conf:
            conf.write(apply(text, dict(os.environ), args.prefix))
        print(f"[{path}] applied the environment", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
