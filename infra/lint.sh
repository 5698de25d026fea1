#!/usr/bin/env bash
# Lint the deployment files: template.yaml with cfn-lint and `sam validate --lint`,
# Dockerfile.lambda with hadolint (failing on warnings), and the shell scripts in infra/
# with shellcheck. Needs no AWS account, no credentials and no Docker engine.
#
# The tools live in their own virtual environment (LINT_VENV, default /tmp/venv-lint),
# created or updated from infra/requirements-lint.txt when that file changes.
set -euo pipefail
cd "$(dirname "$0")/.."

LINT_VENV="${LINT_VENV:-/tmp/venv-lint}"
REQUIREMENTS=infra/requirements-lint.txt
INSTALLED="$LINT_VENV/requirements-lint.txt"

if ! cmp -s "$REQUIREMENTS" "$INSTALLED"; then
    echo "Installing the lint tools into $LINT_VENV"
    python3 -m venv "$LINT_VENV"
    "$LINT_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$INSTALLED"
fi

export SAM_CLI_TELEMETRY=0

echo "cfn-lint template.yaml"
"$LINT_VENV/bin/cfn-lint" template.yaml

# The region only selects cfn-lint's resource specification, and nothing is sent to AWS.
echo "sam validate --lint"
"$LINT_VENV/bin/sam" validate --lint --template template.yaml --region us-east-1

echo "hadolint Dockerfile.lambda"
"$LINT_VENV/bin/hadolint" --failure-threshold warning Dockerfile.lambda

echo "shellcheck infra/*.sh infra/events/*.sh"
"$LINT_VENV/bin/shellcheck" infra/*.sh infra/events/*.sh

echo "JSON files for sam local and the handler tests"
for file in infra/env.json infra/events/*.json tests/events/*.json; do
    python3 -m json.tool "$file" >/dev/null
done

echo "Deployment files: no findings."
