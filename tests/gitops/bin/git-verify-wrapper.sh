#!/bin/sh
# Our stand-in for the git-verify-wrapper.sh that Argo CD's image puts on PATH (tests/gitops).
# Argo CD v3.6.1's repo-server runs `git-verify-wrapper.sh REVISION` in its checkout on every
# generation from git, keeps stdout as the revision's signature report and fails the
# generation ("permission denied") on a non-zero exit. The contract it needs: print what
# `git verify-commit` says about the revision's commit (nothing for an unsigned commit, as in
# the test repositories), exit 0 whether or not it is signed, non-zero only when git itself
# cannot run the check.
[ $# -eq 1 ] || { echo "usage: git-verify-wrapper.sh REVISION" >&2; exit 2; }
report=$(git verify-commit "$1^{commit}" 2>&1)
status=$?
case $status in
  0 | 1) [ -n "$report" ] && printf '%s\n' "$report"; exit 0 ;;  # 1: unsigned or bad signature
  *) printf '%s\n' "$report" >&2; exit "$status" ;;
esac
