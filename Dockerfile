# The ledger service image: Node 20 (better-sqlite3 12 needs it), production dependencies only,
# started with `npm start` (tsx runs the TypeScript sources directly, no build step).

# Build stage: the full image carries python3, make and g++, in case better-sqlite3 has to be
# compiled from source because no prebuilt binary is reachable.
FROM node:20-bookworm AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Run stage: same Debian release (same glibc) as the build stage, without the compilers.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LEDGER_PROJECTIONS=/app/data/projections.db
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY domain ./domain
COPY projections ./projections
COPY src ./src
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
# Ready means the projections have caught up with the log (API.md); until then the load
# balancer should send nothing here.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready') \
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npm", "start"]
