# zkshard worker image. Build: docker build -t zkshard .   Run: see docker-compose.yml.
# --- build: compile TypeScript with the dev dependencies ---
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: production dependencies, compiled code and the default config only ---
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/ui ./dist/ui
COPY config ./config
# The worker runs as `node`; let it create local state (e.g. .zkshard/) in its working directory.
RUN chown node:node /app
USER node
# SIGTERM (docker stop) makes the worker drain for up to worker.shutdownGraceMs, then exit 0.
ENTRYPOINT ["node", "dist/src/cli/zkshard.js"]
CMD ["worker", "--config", "/app/config/worker.yaml"]
