# Warmpool as a container: the controller alone, built from Debian 12's packages.
#   docker build -t warmpool .
#   docker run --rm -v $PWD/examples:/etc/warmpool:ro warmpool check-config /etc/warmpool/web.yaml
#   docker run -d --name warmpool -p 9900:9900 -v /etc/warmpool:/etc/warmpool:ro -v warmpool-state:/var/lib/warmpool \
#     -v /run/haproxy:/run/haproxy warmpool run --config.file /etc/warmpool/warmpool.yaml
# The REST API listens where the config's web.listen_address says (default 127.0.0.1:9900: inside a
# container, set it to 0.0.0.0:9900 and give it a tokens_file). Point state.file at /var/lib/warmpool
# so overrides and pauses survive a restart. The HAProxy provider needs the runtime API socket (mount
# it) or a TCP address; exec machines need their commands inside the image (build FROM this one).

FROM debian:bookworm AS build
# The build half of scripts/install-deps' list (no servers: the tests run in CI, not here).
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
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
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWARMPOOL_BUILD_TESTS=OFF \
      -DWARMPOOL_BUILD_BENCH=OFF \
    && cmake --build build -j "$(nproc)" --target warmpool \
    && strip build/controller/warmpool

FROM debian:bookworm-slim
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libprometheus-cpp-core1.0 libspdlog1.10 libfmt9 libyaml-cpp0.7 libssl3 \
      ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin warmpool \
    && install -d -o warmpool -g warmpool /var/lib/warmpool
COPY --from=build /src/build/controller/warmpool /usr/local/bin/warmpool
USER warmpool
EXPOSE 9900
ENTRYPOINT ["/usr/local/bin/warmpool"]
CMD ["--help"]
