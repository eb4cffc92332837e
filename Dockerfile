# syntax=docker/dockerfile:1
# Production image for authgate: compiles TypeScript and native modules (sqlite3, bcrypt) in throw-away
# stages and ships a non-root runtime holding only production node_modules, dist/, bin/ and policies.yaml.
# Runs with a read-only root filesystem: everything written goes to the /data volume (and /tmp).

# Pinned by tag; pin by digest too (node:20.18.1-bookworm-slim@sha256:…) where your registry policy requires it.
ARG NODE_IMAGE=node:20.18.1-bookworm-slim

# ---- toolchain: what node-gyp needs to compile sqlite3 from source ----
FROM ${NODE_IMAGE} AS toolchain
# build_from_source: sqlite3 is compiled here rather than fetched as a prebuilt binary from outside the registry.
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_build_from_source=true
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# ---- build: all dependencies (dev included) + tsc ----
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci
# The build context is filtered by .dockerignore (.git, .env*, node_modules, dist, data, tests are excluded).
COPY . .
RUN npm run build

# ---- deps: production dependencies only, native modules compiled here so the runtime needs no compiler ----
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="authgate" \
      org.opencontainers.image.description="Authentication sidecar and reverse proxy with the authctl admin CLI" \
      org.opencontainers.image.licenses="Apache-2.0"

# Writable state lives only under /data (a volume / emptyDir), so `--read-only` works.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite:/data/authgate.sqlite \
    AUTHGATE_MAIL_OUTBOX_DIR=/data/outbox \
    POLICIES_FILE=/app/policies.yaml \
    npm_config_update_notifier=false

RUN groupadd --system --gid 10001 authgate \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin authgate \
 && mkdir -p /data/outbox \
 && chown -R 10001:10001 /data \
 && chmod 0750 /data

WORKDIR /app
# Application files stay owned by root: the unprivileged process can read them but never rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY policies.yaml ./policies.yaml
# `authctl` / `authgate` on PATH; node resolves the symlink, so bin/*.js still find ../dist.
RUN chmod 0755 bin/authgate.js bin/authctl.js \
 && ln -s /app/bin/authctl.js /usr/local/bin/authctl \
 && ln -s /app/bin/authgate.js /usr/local/bin/authgate

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080

# No curl in the slim image: Node 20's global fetch does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM directly (authgate drains in-flight requests, SPEC §5).
ENTRYPOINT ["node", "bin/authgate.js"]
CMD ["serve"]
