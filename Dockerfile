# syntax=docker/dockerfile:1.7
# One image for every Valence node; SERVICES picks what a container runs:
#   docker build -t valence .
#   docker run --rm -p 3000:3000 valence                                  (embedded: every service)
#   docker run --rm -e SERVICES=gateway -e TRANSPORTER=nats://nats:4222 valence   (one cluster node)
# bookworm-slim (glibc) rather than alpine: sharp's prebuilt libvips binaries are used as on dev machines.
ARG NODE_IMAGE=node:24-bookworm-slim

# ── build: full install (dev dependencies for tsc), compile TypeScript to dist/ ─────────────────────
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
# `npm run build` = tsc -p tsconfig.build.json; `npm run build:web` = the web app into build/web (Vite). Files tsc does not emit (JSON read at run time,
# templates, …) that live beside the sources are copied next to the compiled files.
RUN npm run build \
 && npm run build:web \
 && (find bin lib middlewares mixins services types -type f ! -name '*.ts' -exec cp --parents {} dist/ \; 2>/dev/null || true) \
 && test -f dist/bin/valence.js

# ── deps: production dependencies only (the `node` dev dependency, which gives npm scripts Node 24
#    on machines with an older system Node, is not needed: this base image runs Node 24) ──────────
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts run: none of the production dependencies needs one (sharp ≥ 0.33 ships prebuilt
# binaries as optional dependencies); loading sharp proves its binary fits this base image.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node -e "require('sharp')"

# ── runtime ─────────────────────────────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data \
    LOG_FORMAT=json
WORKDIR /app
# Code and dependencies belong to root (read-only for the app user); only DATA_DIR is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /src/dist ./dist
COPY public ./public
COPY --from=build /src/build/web ./build/web
# data/media exists so that a volume mounted there starts owned by the app user.
RUN mkdir -p /app/data/media && chown -R node:node /app/data
USER node
EXPOSE 3000
# Health by role: a node running the gateway answers /health on PORT; another node answers
# /metrics on METRICS_PORT when set; a node with neither has no HTTP port and reports healthy
# while its process lives (compose/k8s may override this check).
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 \
  CMD node -e "const e=process.env,s=(e.SERVICES||'*').split(',').map(x=>x.trim());const u=s.some(x=>['*','all','gateway','api'].includes(x))?'http://127.0.0.1:'+(e.PORT||3000)+'/health':e.METRICS_PORT?'http://127.0.0.1:'+e.METRICS_PORT+'/metrics':'';if(!u)process.exit(0);fetch(u,{signal:AbortSignal.timeout(3000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The broker stops on SIGTERM: stops taking work, waits up to SHUTDOWN_TIMEOUT_MS (10 s) for
# in-flight requests, leaves the cluster. Node runs as PID 1 here, so it must (and does) handle it.
STOPSIGNAL SIGTERM
CMD ["node", "dist/bin/valence.js"]
