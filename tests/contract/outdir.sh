#!/bin/sh
# outdir.sh — CLI contract test (not written yet: reported as skipped).
echo "contract outdir: not written yet" >&2
exit 77
