# devtwin: one image for all three roles (ingest, worker, api).
# TypeScript runs through tsx, so the only build is the dashboard's (Vite, a
# dev dependency), done in a stage of its own; the image keeps just dist/web.
#
# Debian (glibc), not Alpine: @temporalio/core-bridge ships prebuilt native
# binaries for linux-gnu only.
FROM node:22-slim AS dashboard
WORKDIR /app
COPY package*.json ./
RUN npm ci --ignore-scripts
COPY web ./web
RUN npm run web:build

FROM node:22-slim

ENV NODE_ENV=production
# A container is reached through its published ports only: listen on every interface in it.
ENV DEVTWIN_BIND=0.0.0.0
WORKDIR /app

# Dependencies first, so this layer is reused until package*.json change.
# tsx is a runtime dependency, so --omit=dev keeps everything the roles need.
# --ignore-scripts matches package.json "allowScripts": the native pieces
# (esbuild, @swc/core) come as prebuilt optional packages, no install hooks.
COPY package*.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY tsconfig.json ./
COPY drizzle ./drizzle
COPY temporal ./temporal
COPY src ./src
COPY --from=dashboard /app/dist/web ./dist/web

# Code stays root-owned and read-only to the process. .devtwin is only used
# when a role runs with embedded defaults (no DATABASE_URL etc.).
RUN mkdir -p /app/.devtwin && chown node:node /app/.devtwin
USER node

EXPOSE 4000
CMD ["node", "--import", "tsx", "src/main.ts", "api"]
