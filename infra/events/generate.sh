#!/usr/bin/env bash
# Regenerate the sample events for `sam local invoke -e`.
#
# `sam local generate-event apigateway http-api-proxy` writes an HTTP API (payload 2.0)
# event. This script then sets the route key and path parameters that the template's
# routes produce, and adds the Content-Type header that POST /tiktok_users requires.
# Usage: infra/events/generate.sh [path/to/sam]
set -euo pipefail
cd "$(dirname "$0")"

SAM="${1:-sam}"
export SAM_CLI_TELEMETRY=0

# generate NAME METHOD PATH ROUTE_KEY REF BODY
generate() {
    local name=$1 method=$2 path=$3 route_key=$4 ref=$5 body=$6

    "$SAM" local generate-event apigateway http-api-proxy \
        --method "$method" --path "$path" --body "$body" |
        python3 -c '
import json
import sys

event = json.load(sys.stdin)
route_key, ref, has_body = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

event["routeKey"] = route_key
event["requestContext"]["routeKey"] = route_key
event["rawQueryString"] = ""
event.pop("queryStringParameters", None)
event["pathParameters"] = {"ref": ref} if ref else {}
if has_body:
    event["headers"]["content-type"] = "application/json"
else:
    event.pop("body", None)
    event["isBase64Encoded"] = False

json.dump(event, sys.stdout, indent=2)
sys.stdout.write("\n")
' "$route_key" "$ref" "$([ -n "$body" ] && echo 1 || echo 0)" >"$name"

    echo "wrote infra/events/$name"
}

generate post-tiktok-user.json POST tiktok_users "POST /tiktok_users" "" \
    '{"tiktok_username": "zg.520"}'
generate get-tiktok-user.json GET tiktok_users/zg.520 "GET /tiktok_users/{ref}" zg.520 ""
generate get-tiktok-user-by-id.json GET tiktok_users/6799838955094836230 \
    "GET /tiktok_users/{ref}" 6799838955094836230 ""
generate get-missing-user.json GET tiktok_users/missing.account \
    "GET /tiktok_users/{ref}" missing.account ""
