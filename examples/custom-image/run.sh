#!/bin/sh
# Fetch one audio file to /input.audio, transcribe it with hark, clean up.
#
# AUDIO_SOURCE: a path inside the container (a mounted volume or network
# share) or a file:// URL; http(s):// URLs work once curl is added to the
# image (see README.md). Arguments are passed on to hark, so the usual flags
# (--parallel, --all-formats DIR, --job-config ...) work unchanged. The
# transcript goes to stdout and hark's exit code is this script's.
set -eu

: "${AUDIO_SOURCE:?set AUDIO_SOURCE to the audio to transcribe}"
tmp=${TMPDIR:-/tmp}
audio="$tmp/input.audio"      # /input.audio links here

cleanup() { rm -f "$audio" "$audio.part"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

case "$AUDIO_SOURCE" in
  http://*|https://*)
    command -v curl >/dev/null 2>&1 || { echo "run.sh: curl is not in this image" >&2; exit 4; }
    curl -fsSL --retry 3 -o "$audio.part" "$AUDIO_SOURCE" || { echo "run.sh: cannot download $AUDIO_SOURCE" >&2; exit 4; }
    ;;
  file://*) cp "${AUDIO_SOURCE#file://}" "$audio.part" || exit 4 ;;
  *) cp "$AUDIO_SOURCE" "$audio.part" || exit 4 ;;
esac
mv "$audio.part" "$audio"

# If $TMPDIR is not /tmp, /input.audio does not reach the file: name it.
if [ "$tmp" != /tmp ]; then set -- --input "$audio" "$@"; fi

# Not exec: the trap removes the audio when hark is done. hark runs in the
# background so that a SIGTERM (docker stop) reaches the trap at once, and is
# passed on to hark.
hark "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; cleanup; exit 143' TERM
trap 'kill -INT "$pid" 2>/dev/null; wait "$pid"; cleanup; exit 130' INT
set +e
wait "$pid"
rc=$?
set -e
exit "$rc"
