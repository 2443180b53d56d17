# The chat server's image: compiled in a build stage, run from dist/ with production dependencies
# only, as an unprivileged user. test/deploy/image.test.ts runs this file's CMD and HEALTHCHECK
# against the compiled server (no image is built there: see README, Deployment).
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 is a native addon: compiled here when no prebuilt binary matches this Node.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY resolvers ./resolvers
COPY loaders ./loaders
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
ENV PORT=4000
WORKDIR /app
# package.json says the compiled files are ES modules; dist/ and node_modules are all that runs.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The SQLite file's folder (unused when MONGODB_URL is set), the only place the server writes.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 4000
# /health: the process answers (the balancer's check is /ready, which also fails while draining).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (SHUTDOWN_DELAY_MS, 5 s in production): give the container more than that to stop.
STOPSIGNAL SIGTERM
# A young generation of 64 MB semi-spaces: a fan-out leaves a frame per subscriber to collect
# (README, Performance; npm start and the bench run the server the same way).
CMD ["node", "--max-semi-space-size=64", "--enable-source-maps", "dist/src/main.js"]
