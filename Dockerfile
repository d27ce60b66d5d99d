# syntax=docker/dockerfile:1
# Build stage: compile TypeScript and bundle the console with the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The broker imports @grantline/sdk (its SPIFFE Workload API client; the CLI's client): an npm workspace.
COPY sdk/typescript/package.json sdk/typescript/tsconfig.build.json ./sdk/typescript/
RUN npm ci --no-audit --no-fund --include-workspace-root --workspace sdk/typescript
COPY tsconfig.json tsconfig.build.json ./
COPY sdk/typescript/src ./sdk/typescript/src
COPY server ./server
# The web console's source: `npm run build` bundles it into dist/console, which the broker serves.
COPY console ./console
COPY migrations ./migrations
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json && npm run build --workspace sdk/typescript \
 # The dev defaults (dev Vault, dev trust domain, embedded PostgreSQL, demo) and the bench scripts stay
 # out of the production image: server/wiring/dev-defaults.ts loads them only when configuration asks.
 && rm -rf dist/server/dev dist/scripts

# Runtime stage: production dependencies only, non-root. Production points DATABASE_URL, VAULT_ADDR
# and GRANTLINE_TRUST_BUNDLE at real services, so the embedded defaults are never used here.
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    GRANTLINE_HOST=0.0.0.0 \
    GRANTLINE_PORT=8080 \
    GRANTLINE_HOME=/var/lib/grantline
WORKDIR /app
COPY package.json package-lock.json ./
COPY sdk/typescript/package.json ./sdk/typescript/
RUN npm ci --omit=dev --no-audit --no-fund --include-workspace-root --workspace sdk/typescript \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/sdk/typescript/dist ./sdk/typescript/dist
COPY bin ./bin
COPY config ./config
RUN groupadd --system grantline && useradd --system --gid grantline --home /var/lib/grantline grantline \
    && mkdir -p /var/lib/grantline && chown grantline:grantline /var/lib/grantline
USER grantline
EXPOSE 8080 8443
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.GRANTLINE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/grantline.js"]
CMD ["serve"]
