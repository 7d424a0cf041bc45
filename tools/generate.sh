#!/usr/bin/env bash
# Regenerates every artefact derived from protos/: the Python package under gen/python (messages, gRPC
# stubs, mypy stubs) and the TypeScript under web/src/gen. `make generate` runs it; `make check-generated`
# runs it and fails when the committed files differ.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PROTOC=("$PY" -m grpc_tools.protoc -Iprotos -Ithird_party/googleapis)
mapfile -t PROTOS < <(cd protos && find globalcredit -name '*.proto' | LC_ALL=C sort)

# Python: regenerate from scratch so a deleted .proto leaves nothing behind.
find gen/python/globalcredit -mindepth 1 -delete
PATH="$PWD/.venv/bin:$PATH" "${PROTOC[@]}" \
  --python_out=gen/python --grpc_python_out=gen/python \
  --mypy_out=quiet:gen/python --mypy_grpc_out=quiet:gen/python \
  "${PROTOS[@]}"
# Every generated folder is a regular package, so mypy and importers find it without namespace tricks.
find gen/python/globalcredit -type d -exec sh -c 'printf "" > "$1/__init__.py"' _ {} \;
printf '' > gen/python/globalcredit/py.typed

# TypeScript, including google/api so that the generated imports resolve, and google/rpc's Status and
# error details so that the console decodes `grpc-status-details-bin` (ErrorInfo, BadRequest) with types.
rm -rf web/src/gen
mkdir -p web/src/gen
"${PROTOC[@]}" \
  --plugin=protoc-gen-es=web/node_modules/.bin/protoc-gen-es \
  --es_out=web/src/gen --es_opt=target=ts \
  "${PROTOS[@]}" google/api/annotations.proto google/api/http.proto \
  google/api/field_behavior.proto google/api/resource.proto \
  google/rpc/status.proto google/rpc/error_details.proto

# Envoy's descriptor set, for REST/JSON transcoding (gateway/envoy). With google/rpc in it, the transcoder
# prints a google.rpc.Status' BadRequest and ErrorInfo details as JSON instead of dropping them.
"${PROTOC[@]}" \
  --include_imports --include_source_info \
  --descriptor_set_out=gateway/envoy/descriptors.binpb \
  "${PROTOS[@]}" google/rpc/status.proto google/rpc/error_details.proto
