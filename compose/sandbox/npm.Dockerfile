# Shared by the templates with a package.json (vite-react, nextjs); images.sh
# uses a template folder's own Dockerfile instead when it has one.
# Dependencies of the template's package.json, installed at image build time
# (the sandbox has no network by default). npm runs only in the build stage.
ARG RUNTIME=autocrea/sandbox-runtime
FROM ${RUNTIME} AS deps
USER root
# The CA bundle lets npm reach the registry through a TLS-inspecting proxy
# (installer/images.sh --ca-bundle); the registry comes from --build-arg.
# Passed by installer/images.sh from the host's npm configuration.
ARG NPM_REGISTRY
COPY ca-bundle.crt /etc/ssl/certs/autocrea-build-ca.crt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /deps
COPY package.json package-lock.json ./
RUN npm config set cafile /etc/ssl/certs/autocrea-build-ca.crt \
 && npm config set registry "$NPM_REGISTRY" \
 && npm ci --no-audit --no-fund --loglevel=error

FROM ${RUNTIME}
COPY --from=deps /deps/node_modules /node_modules
