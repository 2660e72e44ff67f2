#!/usr/bin/env python3
"""The image's bin/update-ini-from-env.py, rewritten for the `pulsar` test harness.

`update-ini-from-env.py FILE PREFIX`: for each variable starting with PREFIX, the rest of its
name is matched against each section in turn: `<first word of the section>_<option>` sets
that option in that section, an option the section already has is replaced; the first match
wins. The file is written back only when something changed.
"""
import configparser
import os
import re
import sys


def update(path: str, prefix: str, environ: dict) -> bool:
    config = configparser.ConfigParser()
    config.read(path)
    updated = False
    for name, value in environ.items():
        if prefix and not name.startswith(prefix):
            continue
        key = name[len(prefix):] if prefix else name
        for section in config.sections():
            first = re.split(r"\W+", section)[0] + "_"
            if key.startswith(first):
                config.set(section, key[len(first):], value)
                updated = True
                break
            if config.has_option(section, key):
                config.set(section, key, value)
                updated = True
                break
    if updated:
        with open(path, "w") as stream:
            config.write(stream)
    return updated


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("Usage: python3 update-ini-from-env.py <path_to_ini_file> <env_prefix>")
        sys.exit(1)
    update(sys.argv[1], sys.argv[2], dict(os.environ))
