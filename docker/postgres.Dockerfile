# PostgreSQL 15 from Debian's own package, for hosts that cannot pull `postgres:15-bookworm` from a
# registry (build from the repository root, on any Debian bookworm base):
#   docker build -f docker/postgres.Dockerfile --build-arg BASE_IMAGE=debian:bookworm -t jimoku-postgres:15 .
#   POSTGRES_IMAGE=jimoku-postgres:15 docker compose -f docker/compose.yaml up
# It reads the official image's POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, so compose.yaml
# works with either.
ARG BASE_IMAGE=debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data && chown postgres:postgres /var/lib/postgresql/data
COPY docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
