# OpenTSB service image. Build: docker build -t opentsb .
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
ENV HOST=0.0.0.0 PORT=8080 TSB_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 8080
USER node
# node itself, not npm: SIGTERM reaches the process that shuts down gracefully (compose adds init: true)
CMD ["node", "--import", "tsx", "src/server.ts"]
