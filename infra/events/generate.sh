#!/usr/bin/env bash
# Regenerate the sample events for `sam local invoke -e`.
#
# `sam local generate-event apigateway http-api-proxy` writes an HTTP API (payload 2.0)
# event. This script then sets what the template's only route, the catch-all `$default`,
# produces: route key `$default` and no path parameters. It also adds the Content-Type
# header that POST /tiktok_users requires.
# Usage: infra/events/generate.sh [path/to/sam]
set -euo pipefail
cd "$(dirname "$0")"

SAM="${1:-sam}"
export SAM_CLI_TELEMETRY=0

# generate NAME METHOD PATH BODY
generate() {
    local name=$1 method=$2 path=$3 body=$4

    # SC2016: `$default` in the Python code is the route key itself, not a shell variable.
    # shellcheck disable=SC2016
    "$SAM" local generate-event apigateway http-api-proxy \
        --method "$method" --path "$path" --body "$body" |
        python3 -c '
import json
import sys

event = json.load(sys.stdin)
has_body = sys.argv[1] == "1"

event["routeKey"] = "$default"
event["requestContext"]["routeKey"] = "$default"
event["rawQueryString"] = ""
event.pop("queryStringParameters", None)
event.pop("pathParameters", None)
if has_body:
    event["headers"]["content-type"] = "application/json"
else:
    event.pop("body", None)
    event["isBase64Encoded"] = False

json.dump(event, sys.stdout, indent=2)
sys.stdout.write("\n")
' "$([ -n "$body" ] && echo 1 || echo 0)" >"$name"

    echo "wrote infra/events/$name"
}

generate post-tiktok-user.json POST tiktok_users '{"tiktok_username": "zg.520"}'
generate get-tiktok-user.json GET tiktok_users/zg.520 ""
generate get-tiktok-user-by-id.json GET tiktok_users/6799838955094836230 ""
generate get-missing-user.json GET tiktok_users/missing.account ""
# A method that no route of the app allows, which the app rejects with a 405 problem.
generate delete-tiktok-user.json DELETE tiktok_users/zg.520 ""
