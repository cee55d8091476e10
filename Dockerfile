# mcrelay container image: build with the full toolchain, run on a slim Node LTS image as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY examples ./examples
USER node
EXPOSE 11211
# Containers listen on all interfaces; on a host, mcrelay binds loopback unless told otherwise.
ENTRYPOINT ["node", "--initial-old-space-size=64", "dist/cli.js"]
CMD ["--config", "file:/app/config/default.yaml", "-p", "11211", "--listen-addresses", "0.0.0.0"]
