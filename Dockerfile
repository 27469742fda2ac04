# syntax=docker/dockerfile:1
# Build: compile the single binary with the pinned Bun.
FROM oven/bun:1.4.4 AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY tsconfig.json drizzle.config.ts ./
COPY src ./src
COPY drizzle ./drizzle
COPY workers ./workers
COPY scripts ./scripts
RUN bun run build

# Run: the binary alone on distroless (glibc, no shell, no package manager), as the non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/stayhub /usr/local/bin/stayhub
WORKDIR /home/nonroot
ENV NODE_ENV=production PORT=3000 DATA_DIR=/home/nonroot/data
USER nonroot
EXPOSE 3000
# No curl in the image: the binary checks its own /health.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/stayhub", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/stayhub"]
CMD ["serve"]
