#!/usr/bin/env bash
# Start a Postgres container that `sam local` can reach, on a Docker network of its own.
#
# The function's container joins the same network when `sam local` gets
# `--docker-network tiktok-users` (infra/samconfig.toml.example sets it), and reaches
# the database as tiktok-users-db:5432 (the URL in infra/env.json). The host reaches it
# on 127.0.0.1:5433, for example to run the migrations with flask.
# Re-running the script reuses the network and the container.
set -euo pipefail

NETWORK=tiktok-users
CONTAINER=tiktok-users-db
IMAGE=postgres:16.10-bookworm
HOST_PORT=5433

if ! docker network inspect "$NETWORK" >/dev/null 2>&1; then
    docker network create "$NETWORK"
fi

if docker container inspect "$CONTAINER" >/dev/null 2>&1; then
    docker start "$CONTAINER" >/dev/null
else
    # A local database only: the password is the well-known "postgres".
    docker run --detach --name "$CONTAINER" --network "$NETWORK" \
        --publish "127.0.0.1:$HOST_PORT:5432" \
        --env POSTGRES_PASSWORD=postgres --env POSTGRES_DB=tiktok_users \
        "$IMAGE" >/dev/null
fi

echo "Waiting for Postgres in $CONTAINER"
until docker exec "$CONTAINER" pg_isready --username postgres --quiet; do
    sleep 1
done

cat <<MESSAGE
Postgres is up.
  from sam local (network $NETWORK): postgresql+pg8000://postgres:postgres@$CONTAINER:5432/tiktok_users
  from this host:                    postgresql+pg8000://postgres:postgres@127.0.0.1:$HOST_PORT/tiktok_users
Migrate it with:
  DATABASE_URL=postgresql+pg8000://postgres:postgres@127.0.0.1:$HOST_PORT/tiktok_users flask --app app db upgrade
MESSAGE
