# Warmpool as a container: the controller alone, built from Debian 12's packages. Built and run by
# scripts/container-test (ctest package.container); docs/packaging.md has the details.
#   docker build -t warmpool .            (podman build: the same; see scripts/container-test)
#   docker run --rm -v $PWD/examples:/etc/warmpool:ro warmpool check-config /etc/warmpool/web.yaml
#   docker run -d --name warmpool -p 9900:9900 -v /etc/warmpool:/etc/warmpool:ro -v warmpool-state:/var/lib/warmpool \
#     -v /run/haproxy:/run/haproxy warmpool run --config.file /etc/warmpool/warmpool.yaml
# The REST API listens where the config's web.listen_address says (default 127.0.0.1:9900: inside a
# container, set it to 0.0.0.0:9900 and give it a tokens_file). Point state.file at /var/lib/warmpool
# so overrides and pauses survive a restart. The HAProxy provider needs the runtime API socket (mount
# it) or a TCP address; exec machines need their commands inside the image (build FROM this one), and
# `--init` so that what they leave in the background is reaped. It runs as the user warmpool; a
# mounted tokens file must be readable by it. `docker stop` (SIGTERM) saves the state and exits 0.
#
# The build stage keeps ccache's cache between builds (a BuildKit/buildah cache mount), so a rebuild
# after a source change recompiles only what changed. The final stage holds the stripped binary and
# its shared libraries: no compiler, no headers.

FROM debian:bookworm AS build
# The build half of scripts/install-deps' list (no servers: the tests run in CI, not here).
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      build-essential cmake ninja-build ccache pkg-config ca-certificates \
      libboost1.81-dev libssl-dev zlib1g-dev nlohmann-json3-dev prometheus-cpp-dev libspdlog-dev libfmt-dev \
      libyaml-cpp-dev libcli11-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY include/ include/
COPY core/ core/
COPY policies/ policies/
COPY providers/ providers/
COPY controller/ controller/
COPY packaging/CMakeLists.txt packaging/
# JOBS: parallel compile jobs (default: every core).
ARG JOBS=
ENV CCACHE_DIR=/root/.cache/ccache
RUN --mount=type=cache,target=/root/.cache/ccache,sharing=locked \
    ccache --zero-stats >/dev/null \
    && cmake -S . -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARMPOOL_BUILD_TESTS=OFF \
      -DWARMPOOL_BUILD_BENCH=OFF \
    && cmake --build /tmp/build -j "${JOBS:-$(nproc)}" --target warmpool \
    && install -D -s /tmp/build/controller/warmpool /out/warmpool \
    && ccache --show-stats \
    && rm -rf /tmp/build

FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="warmpool" \
      org.opencontainers.image.description="Warmpool: autoscaling controller for server pools behind a load balancer"
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libprometheus-cpp-core1.0 libspdlog1.10 libfmt9 libyaml-cpp0.7 libssl3 zlib1g \
      ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
    && useradd --system --user-group --no-create-home --home-dir /var/lib/warmpool --shell /usr/sbin/nologin warmpool \
    && install -d -o warmpool -g warmpool -m 0750 /var/lib/warmpool
COPY --from=build /out/warmpool /usr/local/bin/warmpool
USER warmpool
WORKDIR /var/lib/warmpool
EXPOSE 9900
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/warmpool"]
CMD ["--help"]
