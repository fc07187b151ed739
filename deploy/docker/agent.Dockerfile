# syntax=docker/dockerfile:1.7
# The CityFlow edge agent as a container (for a Pi that runs containers, or tests on a laptop; the
# Pis without a container runtime use the single executables of deploy/edge/).
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/agent.Dockerfile \
#     -t ghcr.io/cityflow/agent:0.1.0 .
# Base images are pinned to an exact version (the Node version CI runs); add the digest where known.

# Built on the target platform: better-sqlite3 is a native addon and must match TARGETARCH.
FROM node:20.20.2-bookworm-slim AS build
ARG TARGETARCH
RUN case "${TARGETARCH:-amd64}" in amd64|arm64) ;; *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; esac
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The same scripts as .ci/run: `npm ci` (prepare runs `npm run build`) and `npm run build`.
RUN npm ci --no-audit --no-fund \
  && npm run build \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/protocol/package.json ./protocol/package.json
COPY --from=build /src/protocol/dist ./protocol/dist
COPY --from=build /src/protocol/networks ./protocol/networks
COPY --from=build /src/forecast/package.json ./forecast/package.json
COPY --from=build /src/forecast/dist ./forecast/dist
COPY --from=build /src/edge-agent/package.json ./edge-agent/package.json
COPY --from=build /src/edge-agent/dist ./edge-agent/dist
COPY --from=build /src/edge-agent/bin ./edge-agent/bin
RUN groupadd --gid 10001 cityflow && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin cityflow \
  && mkdir -p /var/lib/cityflow && chown 10001:10001 /var/lib/cityflow
USER 10001:10001
# The agent's buffer (SQLite) and state: keep it on a volume, it holds what the hub has not acked yet.
VOLUME ["/var/lib/cityflow"]
EXPOSE 1883 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "edge-agent/bin/cityflow-agent.js"]
CMD ["run", "--data-dir", "/var/lib/cityflow"]
