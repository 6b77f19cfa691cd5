#!/usr/bin/env bash
# Validates Kubernetes manifests offline against the Kubernetes API's JSON Schema, strictly
# (unknown fields are errors), with kubernetes-validate from PyPI, which bundles the schemas of
# every Kubernetes version it knows: no schema download at run time.
#
#   deploy/ci/k8s-validate.sh deploy/k8s-indexed-job.yaml deploy/k8s-merge-job.yaml
#
# The first run makes a venv under ${XDG_CACHE_HOME:-$HOME/.cache}/clipsim-ci (python3 -m venv,
# pip install from PyPI, ~10 s, ~150 MB); later runs reuse it (~0.3 s).
#
# Fails (exit 1) on: a schema error (wrong type, missing required field, unknown field); a
# resource whose kind/apiVersion has no schema (kubernetes-validate only warns on those); a
# file with no resource; and the few checks below that the schema cannot express (its enums
# are descriptions, and Quantity is any string or number): completionMode, restartPolicy (a
# Job's pods: Never or OnFailure), imagePullPolicy, accessModes, and resource quantities.
#
# Environment: K8S_VERSIONS, comma-separated Kubernetes versions to check against (default:
# the newest the pinned package bundles, 1.37).
set -euo pipefail

KV_VERSION=1.37.0                       # pinned kubernetes-validate; its newest schema is k8s 1.37
[[ $# -gt 0 ]] || { echo "usage: $0 FILE..." >&2; exit 2; }

venv="${XDG_CACHE_HOME:-$HOME/.cache}/clipsim-ci/kubernetes-validate-$KV_VERSION"
if [[ ! -f $venv/.installed ]]; then
    echo "k8s-validate: installing kubernetes-validate==$KV_VERSION into $venv" >&2
    rm -rf -- "$venv"
    mkdir -p -- "$(dirname "$venv")"
    python3 -m venv "$venv" || { echo "k8s-validate: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KV_VERSION" >&2
    touch "$venv/.installed"
fi

versions=()
IFS=, read -r -a ks <<<"${K8S_VERSIONS:-}"
for k in "${ks[@]}"; do versions+=(-k "$k"); done

rc=0
out=$("$venv/bin/kubernetes-validate" --strict "${versions[@]}" "$@") || rc=$?
[[ -z $out ]] || printf '%s\n' "$out"
# kubernetes-validate exits 0 when it has no schema for a kind/apiVersion (e.g. batch/v2).
if grep -q '^WARN ' <<<"$out"; then
    echo "k8s-validate: a resource could not be checked (WARN above): failing" >&2
    rc=1
fi

# Checks the schema lacks. Uses the venv's PyYAML.
"$venv/bin/python" - "$@" <<'EOF' || rc=1
import re, sys, yaml

ENUMS = {
    "completionMode": {"NonIndexed", "Indexed"},
    "restartPolicy": {"Always", "OnFailure", "Never"},
    "imagePullPolicy": {"Always", "IfNotPresent", "Never"},
    "podReplacementPolicy": {"TerminatingOrFailed", "Failed"},
}
ACCESS_MODES = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}
# k8s.io/apimachinery/pkg/api/resource: <number><suffix>, suffix binary SI, decimal SI or exponent.
QUANTITY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
errors = []

def walk(node, path, fname):
    if isinstance(node, dict):
        for key, val in node.items():
            p = f"{path}.{key}" if path else str(key)
            if key in ENUMS and isinstance(val, str) and val not in ENUMS[key]:
                errors.append(f"{fname}: {p}: {val!r} is not one of {sorted(ENUMS[key])}")
            if key == "accessModes" and isinstance(val, list):
                for m in val:
                    if m not in ACCESS_MODES:
                        errors.append(f"{fname}: {p}: {m!r} is not one of {sorted(ACCESS_MODES)}")
            if key in ("requests", "limits", "capacity") and isinstance(val, dict):
                for r, q in val.items():
                    if not QUANTITY.match(str(q)):
                        errors.append(f"{fname}: {p}.{r}: {q!r} is not a Kubernetes quantity")
            walk(val, p, fname)
    elif isinstance(node, list):
        for i, val in enumerate(node):
            walk(val, f"{path}.{i}", fname)

for fname in sys.argv[1:]:
    try:
        with open(fname) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
    except (OSError, yaml.YAMLError) as e:
        errors.append(f"{fname}: {e}")
        continue
    if not docs:
        errors.append(f"{fname}: no Kubernetes resource in the file")
    for d in docs:
        if not isinstance(d, dict):
            continue
        walk(d, "", fname)
        if d.get("kind") == "Job":
            rp = (((d.get("spec") or {}).get("template") or {}).get("spec") or {}).get("restartPolicy")
            if rp not in ("Never", "OnFailure"):
                errors.append(f"{fname}: job/{(d.get('metadata') or {}).get('name')}: "
                              f"spec.template.spec.restartPolicy must be Never or OnFailure, not {rp!r}")
for e in errors:
    print("ERROR", e)
sys.exit(1 if errors else 0)
EOF
exit "$rc"
