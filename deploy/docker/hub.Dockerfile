# syntax=docker/dockerfile:1.7
# The CityFlow hub (API, ingest, cycles) and the console it serves.
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/hub.Dockerfile \
#     -t ghcr.io/cityflow/hub:0.1.0 .
# Base images are pinned to an exact version; pin the digest too where your registry mirror is known
# (`node:20.20.2-bookworm-slim@sha256:...`). The Node version is the one CI runs.

# Build on the target platform (QEMU under buildx for arm64): native addons of the workspace
# (better-sqlite3 for the agent) are compiled or fetched for TARGETARCH, not for the build machine.
FROM node:20.20.2-bookworm-slim AS build
ARG TARGETARCH
RUN case "${TARGETARCH:-amd64}" in amd64|arm64) ;; *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; esac
# node-gyp needs these when no prebuilt better-sqlite3 matches the platform
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The same scripts as .ci/run: `npm ci` (its prepare script runs `npm run build`), then the build again
# in case prepare was skipped by the environment; then dev dependencies go.
RUN npm ci --no-audit --no-fund \
  && npm run build \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Workspace packages are symlinked from node_modules/@cityflow: each needs its package.json and dist.
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/protocol/package.json ./protocol/package.json
COPY --from=build /src/protocol/dist ./protocol/dist
COPY --from=build /src/protocol/networks ./protocol/networks
COPY --from=build /src/forecast/package.json ./forecast/package.json
COPY --from=build /src/forecast/dist ./forecast/dist
COPY --from=build /src/console/package.json ./console/package.json
COPY --from=build /src/console/dist ./console/dist
COPY --from=build /src/console/public ./console/public
COPY --from=build /src/hub/package.json ./hub/package.json
COPY --from=build /src/hub/dist ./hub/dist
COPY --from=build /src/hub/bin ./hub/bin
# A fixed numeric user (the chart's runAsUser), so runAsNonRoot can be verified by the kubelet.
RUN groupadd --gid 10001 cityflow && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin cityflow
USER 10001:10001
EXPOSE 8081
# Liveness only (the process answers); /health also reports the database and broker.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8081)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "hub/bin/cityflow-hub.js"]
CMD ["serve"]
