# One image for api and worker (the command picks the role). The Temporal CLI is not needed
# in production (TEMPORAL_ADDRESS points at the server), so tool installation is skipped.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV SKIP_TOOL_INSTALL=1 NODE_ENV=production FFMPEG_PATH=/usr/bin/ffmpeg FFPROBE_PATH=/usr/bin/ffprobe
COPY package.json package-lock.json ./
COPY scripts/install-tools.mjs scripts/install-tools.mjs
RUN npm ci --include=dev
COPY . .
USER node
