# hark: offline batch speech transcription, as a container.
#
#   scripts/fetch-model whisper-tiny.en        # the default model, not committed
#   docker build -t hark .
#   cat audio.mp3 | docker run -i -e LICENSE_TOKEN=... hark      # English, no flags
#
# Four stages on a stock Debian base: `onnxruntime` fetches the pinned,
# sha256-checked ONNX Runtime from its PyPI wheel, `build` compiles hark with
# Debian's rustc-web/cargo-web (bookworm-security, Rust >= 1.92), `model` picks
# from the model directory only the files hark will load (scripts/select-model),
# and the runtime stage holds only the binary, the library, that model and the
# user.
# Works with the classic builder and BuildKit, with or without a registry: on a
# machine that cannot pull, `scripts/make-base-image` creates
# debian:bookworm-slim locally first. See docs/container.md.
#
# Build arguments:
#   DEBIAN_IMAGE    base image for every stage     (default debian:bookworm-slim)
#   HARK_MODEL_DIR  model directory in the build context, baked in at
#                   /opt/hark/model (default models/whisper-tiny.en, made by
#                   `scripts/fetch-model whisper-tiny.en`; it is not committed)
#   HARK_WHISPER_INT8=1        bake in the int8 files where there are some
#   HARK_WHISPER_DECODER=sherpa  bake in sherpa-onnx's decoder, not hark's
#   HARK_MODEL_KEEP_ALL=1      bake in every file of HARK_MODEL_DIR
#                   (the first two choose as hark itself does at run time
#                   with the same variables set; see scripts/select-model)
#   HARK_TRUSTED_KEYS_DIR  license public keys compiled in (default keys/trusted)

ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG HARK_MODEL_DIR=models/whisper-tiny.en

# ---------------------------------------------------------- onnxruntime ----
FROM ${DEBIAN_IMAGE} AS onnxruntime
# A host copy in .ort/ (from scripts/fetch-onnxruntime) is used when its sha256
# matches; otherwise the pinned wheel is downloaded from PyPI here.
COPY scripts/fetch-onnxruntime .or[t] /ort-ctx/
RUN set -e; mkdir -p /opt/hark/lib; \
    if [ -f /ort-ctx/libonnxruntime.so.1.31.1 ]; then cp /ort-ctx/libonnxruntime.so.1.31.1 /opt/hark/lib/; fi; \
    if ! /ort-ctx/fetch-onnxruntime /opt/hark/lib 2>/dev/null; then \
      rm -f /opt/hark/lib/*; \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip ca-certificates; \
      /ort-ctx/fetch-onnxruntime /opt/hark/lib; \
    fi; \
    ln -sf libonnxruntime.so.1.31.1 /opt/hark/lib/libonnxruntime.so; \
    ln -sf libonnxruntime.so.1.31.1 /opt/hark/lib/libonnxruntime.so.1; \
    chmod 0644 /opt/hark/lib/libonnxruntime.so.1.31.1; \
    ls -l /opt/hark/lib

# ---------------------------------------------------------------- build ----
FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      rustc-web cargo-web gcc libc6-dev make cmake pkg-config ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rustc --version \
 && rustc -vV | awk '/^release:/ { split($2, v, "."); if (v[1] < 1 || (v[1] == 1 && v[2] < 92)) { print "rustc " $2 " is older than 1.92 (ort needs it)"; exit 1 } }'
ENV CARGO_HOME=/usr/local/cargo \
    CARGO_TERM_COLOR=never \
    CARGO_NET_RETRY=5
WORKDIR /src

# Dependencies first, against stub sources, so that a change to hark's own
# code rebuilds only hark (a warm build).
COPY Cargo.toml Cargo.lock ./
# Crates come from crates.io, or, when the context has them, from
# `cargo vendor --locked target/vendor` (then the build needs no access to
# crates.io at all: scripts/container-test does this).
COPY Cargo.lock target/vendo[r] /src/vendor/
RUN rm -f /src/vendor/Cargo.lock \
 && if [ -n "$(ls -A /src/vendor)" ]; then \
      mkdir -p .cargo \
      && printf '[source.crates-io]\nreplace-with = "vendored"\n\n[source.vendored]\ndirectory = "/src/vendor"\n' \
           > .cargo/config.toml \
      && echo "using vendored crates"; \
    else rmdir /src/vendor; fi
RUN mkdir -p src \
 && echo 'fn main() {}' > src/main.rs \
 && : > src/lib.rs \
 && cargo fetch --locked \
 && cargo build --release --locked --bin hark \
 && rm -rf src target/release/hark target/release/deps/hark-* target/release/deps/libhark-* \
      target/release/.fingerprint/hark-*

# The license trust anchors compiled in by build.rs (public keys only).
ARG HARK_TRUSTED_KEYS_DIR=keys/trusted
COPY keys ./keys
COPY Cargo.toml build.r[s] ./
# The built-in digits model is compiled into the binary (include_bytes!);
# only it, so that changing the model baked in at /opt/hark/model (the
# `model` stage below) never rebuilds hark.
COPY models/digits-en ./models/digits-en
COPY src ./src
# COPY keeps the files' own mtimes, which can be older than the stub build:
# touch them so cargo rebuilds hark.
RUN find src build.rs -type f -exec touch {} + 2>/dev/null; \
    true \
 && cargo build --release --locked --bin hark \
 && install -D -m 0755 target/release/hark /out/hark \
 && ldd /out/hark \
 && ! ldd /out/hark | grep -q 'not found'

# ---------------------------------------------------------------- model ----
FROM ${DEBIAN_IMAGE} AS model
ARG HARK_MODEL_DIR
ARG HARK_WHISPER_INT8=
ARG HARK_WHISPER_DECODER=
ARG HARK_MODEL_KEEP_ALL=
COPY scripts/select-model /usr/local/bin/select-model
# The wildcard keeps a missing directory from failing the COPY with Docker's
# own message, so that the RUN below can say what to do (select-model always
# matches). Only the files at the top of the directory are used.
COPY scripts/select-model ${HARK_MODEL_DIR}/* /ctx/model/
RUN set -e; rm /ctx/model/select-model; \
    if [ -z "$(ls -A /ctx/model)" ]; then \
      echo "error: HARK_MODEL_DIR=${HARK_MODEL_DIR}: no such directory in the build context (or it is empty)." >&2; \
      echo "  Make the default model first: scripts/fetch-model whisper-tiny.en" >&2; \
      echo "  (or scripts/fetch-model whisper-base and --build-arg HARK_MODEL_DIR=models/whisper-base;" >&2; \
      echo "  a directory outside models/ is not in the build context, see .dockerignore)" >&2; \
      exit 1; \
    fi; \
    HARK_WHISPER_INT8="$HARK_WHISPER_INT8" HARK_WHISPER_DECODER="$HARK_WHISPER_DECODER" \
      HARK_MODEL_KEEP_ALL="$HARK_MODEL_KEEP_ALL" select-model /ctx/model /model \
 || { echo "error: HARK_MODEL_DIR=${HARK_MODEL_DIR}: see above" >&2; exit 1; }

# -------------------------------------------------------------- runtime ----
FROM ${DEBIAN_IMAGE}
LABEL org.opencontainers.image.title="hark" \
      org.opencontainers.image.description="Offline one-shot batch speech transcription (Speechmatics json-v2 compatible)" \
      org.opencontainers.image.licenses="MIT"

COPY --from=onnxruntime /opt/hark/lib/ /opt/hark/lib/
COPY --from=build /out/hark /opt/hark/bin/hark
COPY --from=model /model/ /opt/hark/model/
# For derived images that bake in another model (examples/whisper-base).
COPY --from=model /usr/local/bin/select-model /opt/hark/bin/select-model

# A numeric non-root user (Kubernetes' runAsNonRoot can only verify numeric
# ones). Any other --user UID:GID works too: hark needs no passwd entry, no
# home directory and no writable path but $TMPDIR (default /tmp).
RUN groupadd --system --gid 10001 hark \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin hark \
 && ln -s /opt/hark/bin/hark /usr/local/bin/hark \
 && chmod -R a+rX /opt/hark \
 && ! ldd /opt/hark/lib/libonnxruntime.so.1 | grep 'not found' \
 && /opt/hark/bin/hark --version

# ONNX Runtime's Linux build carries Microsoft telemetry (1DS) that would try
# to upload over HTTPS and keep a device id and event queue under $HOME/.cache:
# an offline transcriber must not, so it is switched off.
ENV ORT_DISABLE_TELEMETRY=1

USER 10001:10001
ENTRYPOINT ["/opt/hark/bin/hark"]
