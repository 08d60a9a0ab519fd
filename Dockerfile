# secretops as a container image: the scanner (base install) by default.
#   docker build -t secretops .
#   docker run --rm -v "$PWD:/src" secretops scan .
# Rotation drivers too: docker build --build-arg EXTRAS=all -t secretops:all .
# Installed from this build context (the PyPI name "secretops" is another project). docs/ci.md.

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY pyproject.toml README.md ./
COPY secretops/ secretops/
ARG EXTRAS=""
RUN python -m venv /opt/secretops \
 && /opt/secretops/bin/pip install ".${EXTRAS:+[${EXTRAS}]}"

FROM python:3.12-slim
# git: for --git-history, --git-range and --staged.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group secretops \
 && git config --system --add safe.directory /src
COPY --from=build /opt/secretops /opt/secretops
ENV PATH="/opt/secretops/bin:${PATH}" PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /src
ENTRYPOINT ["secretops"]
CMD ["scan", "."]
