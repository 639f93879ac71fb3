#!/usr/bin/env bash
# An SKA approver for OpenTSB made of bash, openssl and curl only (no jq).
#
#   scripts/approver.sh keygen KEYFILE [p256|p384|secp256k1|ed25519|rsa]
#   scripts/approver.sh pubkey KEYFILE
#   scripts/approver.sh tasks KEYFILE [LEVEL] [REQUEST_ID]
#   scripts/approver.sh show KEYFILE TASK_ID [LEVEL]
#   scripts/approver.sh approve KEYFILE TASK_ID
#   scripts/approver.sh reject KEYFILE TASK_ID [REASON]
#
# `scripts/approver.sh help` explains each command. What is signed: docs/approval-challenge.md.
set -euo pipefail
shopt -s inherit_errexit 2>/dev/null || true

PROGRAM=${0##*/}
TSB_URL=${TSB_URL:-http://127.0.0.1:8080}
TSB_URL=${TSB_URL%/}

usage() {
  cat <<EOF
usage: $PROGRAM COMMAND ARGS...

An SKA approver that uses only bash, openssl and curl.

commands:
  keygen KEYFILE [TYPE]        make an approver key (PEM, mode 600) and print its public key (base64
                               SPKI DER, the "value" of a public_key approval in a policy).
                               TYPE: p256 (default), p384, secp256k1, ed25519, rsa (3072 bit)
  pubkey KEYFILE               print the public key of KEYFILE (base64 SPKI DER)
  tasks KEYFILE [LEVEL] [REQUEST_ID]
                               list this approver's open tasks (signs a fresh timestamp), one per line:
                               TASK_ID REQUEST_ID OPERATION KEY_NAME, tab-separated. LEVEL: level1
                               (default) .. level5; REQUEST_ID: only that request's task
  show KEYFILE TASK_ID [LEVEL] print one task as JSON to review it before deciding (default level5:
                               metadata, payload, original request and key attributes)
  approve KEYFILE TASK_ID      sign the task's challenge (approvalToBeSigned), POST /v1/approval
  reject KEYFILE TASK_ID [REASON]
                               sign "REJECT:" + challenge (rejectionToBeSigned), DELETE /v1/task

environment:
  TSB_URL                base URL of the service (default http://127.0.0.1:8080)
  TSB_API_KEY            an API key with the approver role, sent as X-API-KEY
  TSB_TOKEN              instead of TSB_API_KEY: a bearer JWT with the approver role
  TSB_APPROVER_DIGEST    digest of RSA and EC signatures: SHA-256 (default), SHA-224, SHA-384, SHA-512,
                         SHA3-224, SHA3-256, SHA3-384, SHA3-512. Ed25519 keys sign pure EdDSA
  CURL_CA_BUNDLE         CA certificates for an https TSB_URL (read by curl itself)

Errors: the TSB error body is printed and the exit status is 1 (2 for a usage error).
EOF
}

die() {
  printf '%s: %s\n' "$PROGRAM" "$*" >&2
  exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/approver.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 700 "$WORK"

# --- the approver key: loaded once, in this shell, so that every check can stop the script ---------

KEY='' KIND='' DIGEST_NAME='' DIGEST_OPTION='' PUBLIC_KEY=''

# load_key KEYFILE: sets KEY, KIND (eddsa | digest), DIGEST_NAME, DIGEST_OPTION and PUBLIC_KEY
load_key() {
  local text digest
  [[ -r $1 ]] || die "cannot read key file $1"
  text=$(openssl pkey -in "$1" -noout -text 2>/dev/null) || die "$1 is not a private key openssl can read"
  KEY=$1
  case ${text%%$'\n'*} in
  ED25519*)
    KIND=eddsa DIGEST_NAME=EdDSA DIGEST_OPTION=''
    ;;
  ED448* | X25519* | X448*)
    die "$1: ${text%% *} keys cannot approve (use an EC, RSA or Ed25519 key)"
    ;;
  *)
    KIND=digest
    digest=${TSB_APPROVER_DIGEST:-SHA-256}
    case $(printf '%s' "$digest" | tr '[:lower:]_' '[:upper:]-') in
    SHA-224 | SHA224) DIGEST_NAME=SHA-224 DIGEST_OPTION=-sha224 ;;
    SHA-256 | SHA256) DIGEST_NAME=SHA-256 DIGEST_OPTION=-sha256 ;;
    SHA-384 | SHA384) DIGEST_NAME=SHA-384 DIGEST_OPTION=-sha384 ;;
    SHA-512 | SHA512) DIGEST_NAME=SHA-512 DIGEST_OPTION=-sha512 ;;
    SHA3-224) DIGEST_NAME=SHA3-224 DIGEST_OPTION=-sha3-224 ;;
    SHA3-256) DIGEST_NAME=SHA3-256 DIGEST_OPTION=-sha3-256 ;;
    SHA3-384) DIGEST_NAME=SHA3-384 DIGEST_OPTION=-sha3-384 ;;
    SHA3-512) DIGEST_NAME=SHA3-512 DIGEST_OPTION=-sha3-512 ;;
    *) die "TSB_APPROVER_DIGEST \"$digest\" is not one of SHA-224, SHA-256, SHA-384, SHA-512, SHA3-224, SHA3-256, SHA3-384, SHA3-512" ;;
    esac
    ;;
  esac
  PUBLIC_KEY=$(public_key "$1")
}

public_key() {
  openssl pkey -in "$1" -pubout -outform DER | openssl base64 -A
}

# sign_file FILE: the base64 signature of KEY over the bytes of FILE (ECDSA DER, RSA PKCS#1 v1.5 or EdDSA)
sign_file() {
  if [[ $KIND == eddsa ]]; then
    openssl pkeyutl -sign -inkey "$KEY" -rawin -in "$1" -out "$WORK/signature"
  else
    openssl dgst "$DIGEST_OPTION" -sign "$KEY" -out "$WORK/signature" "$1"
  fi
  openssl base64 -A -in "$WORK/signature"
}

# --- JSON without jq: the fields read here are base64, UUIDs and key names --------------------------

# json_field NAME: the value of the first "NAME":"..." on stdin (empty when absent or null)
json_field() {
  { grep -o "\"$1\":\"[^\"]*\"" || true; } | sed -n -e "1s/^\"$1\":\"\\(.*\\)\"\$/\\1/p"
}

# one line per task of a {"tasks":[...]} answer, each a JSON object
split_tasks() {
  awk '{ gsub(/\{"detailLevel":/, "\n{\"detailLevel\":"); print }' |
    { grep '^{"detailLevel":' || true; } | sed -e 's/]}$//' -e 's/,$//'
}

# json_string TEXT: TEXT as a JSON string literal (control characters other than tab and newline dropped)
json_string() {
  local text
  text=$(printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037\177')
  text=${text//\\/\\\\}
  text=${text//\"/\\\"}
  text=${text//$'\t'/\\t}
  text=${text//$'\r'/\\r}
  text=${text//$'\n'/\\n}
  printf '"%s"' "$text"
}

# --- HTTP ------------------------------------------------------------------------------------------

# call METHOD PATH BODY: prints the answer; an HTTP error stops the script with the TSB error body
call() {
  local method=$1 path=$2 body=$3 status
  [[ -n ${TSB_API_KEY:-}${TSB_TOKEN:-} ]] || die "set TSB_API_KEY (an approver-role API key) or TSB_TOKEN"
  # credentials go through a file, not the command line (other users can read that)
  (
    umask 077
    printf 'Content-Type: application/json\n'
    if [[ -n ${TSB_API_KEY:-} ]]; then
      printf 'X-API-KEY: %s\n' "$TSB_API_KEY"
    else
      printf 'Authorization: Bearer %s\n' "$TSB_TOKEN"
    fi
  ) >"$WORK/headers"
  printf '%s' "$body" >"$WORK/request.json"
  if ! status=$(curl -sS -X "$method" -H "@$WORK/headers" --data-binary "@$WORK/request.json" \
    -o "$WORK/response" -w '%{http_code}' "$TSB_URL$path"); then
    die "$method $TSB_URL$path: no answer (is the service running at TSB_URL=$TSB_URL?)"
  fi
  if [[ $status != 2* ]]; then
    printf '%s: %s %s failed: HTTP %s\n' "$PROGRAM" "$method" "$path" "$status" >&2
    cat "$WORK/response" >&2
    printf '\n' >&2
    exit 1
  fi
  cat "$WORK/response"
}

# list_tasks LEVEL TASK_ID REQUEST_ID: the {"tasks":[...]} answer for KEY, one page of up to 100
list_tasks() {
  local level=$1 task=$2 request=$3 timestamp signature filter
  timestamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  printf '%s' "$timestamp" >"$WORK/timestamp"
  signature=$(sign_file "$WORK/timestamp")
  filter="\"timestamp\":\"$timestamp\",\"timestampSignature\":\"$signature\""
  filter+=",\"timestampDigestAlgorithm\":\"$DIGEST_NAME\",\"approverPublicKey\":\"$PUBLIC_KEY\""
  filter+=",\"detailLevel\":\"$level\""
  [[ -z $task ]] || filter+=",\"id\":\"$task\""
  [[ -z $request ]] || filter+=",\"requestId\":\"$request\""
  filter+=',"paging":{"pageNumber":0,"pageSize":100,"sortOrder":"CREATION_DATE_ASC"}'
  call POST /v1/filteredAllApprovalTask "{$filter}"
}

# one_task TASK_ID LEVEL: the task's JSON object on one line
one_task() {
  local answer task
  answer=$(list_tasks "$2" "$1" '')
  task=$(split_tasks <<<"$answer" | sed -n 1p)
  [[ -n $task ]] || die "no open task $1 for this approver (decided already, or its request is closed)"
  printf '%s\n' "$task"
}

check_level() {
  [[ $1 =~ ^level[1-5]$ ]] || die "LEVEL \"$1\" is not one of level1 .. level5"
}

check_uuid() {
  [[ $2 =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]] ||
    die "$1 \"$2\" is not a UUID"
}

# decide approve|reject TASK_ID [REASON]
decide() {
  local action=$1 id=$2 reason=${3:-} task field challenge signature body summary
  task=$(one_task "$id" level1)
  if [[ $action == approve ]]; then field=approvalToBeSigned; else field=rejectionToBeSigned; fi
  challenge=$(json_field "$field" <<<"$task")
  [[ -n $challenge ]] || die "task $id carries no $field"
  printf '%s' "$challenge" | openssl base64 -d -A >"$WORK/challenge"
  signature=$(sign_file "$WORK/challenge")
  body="\"id\":\"$id\",\"signature\":\"$signature\""
  body+=",\"approvalDigestAlgorithm\":\"$DIGEST_NAME\",\"approverPublicKey\":\"$PUBLIC_KEY\""
  summary="$(json_field operation <<<"$task") with key $(json_field keyName <<<"$task")"
  summary+=", request $(json_field requestId <<<"$task")"
  if [[ $action == approve ]]; then
    call POST /v1/approval "{$body,\"approvalToBeSigned\":\"$challenge\"}" >/dev/null
    printf 'approved task %s: %s\n' "$id" "$summary"
  else
    [[ -z $reason ]] || body+=",\"reason\":$(json_string "$reason")"
    call DELETE /v1/task "{$body}" >/dev/null
    printf 'rejected task %s: %s\n' "$id" "$summary"
  fi
}

# --- commands --------------------------------------------------------------------------------------

usage_error() {
  printf '%s: usage: %s %s\n' "$PROGRAM" "$PROGRAM" "$1" >&2
  exit 2
}

command=${1:-help}
[[ $# -eq 0 ]] || shift

case $command in
keygen)
  [[ $# -ge 1 && $# -le 2 ]] || usage_error 'keygen KEYFILE [p256|p384|secp256k1|ed25519|rsa]'
  [[ ! -e $1 ]] || die "$1 exists already; not overwriting it"
  case ${2:-p256} in
  p256 | P-256 | ec) options=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
  p384 | P-384) options=(-algorithm EC -pkeyopt ec_paramgen_curve:P-384) ;;
  secp256k1) options=(-algorithm EC -pkeyopt ec_paramgen_curve:secp256k1) ;;
  ed25519 | Ed25519) options=(-algorithm ED25519) ;;
  rsa | RSA) options=(-algorithm RSA -pkeyopt rsa_keygen_bits:3072) ;;
  *) die "key type \"$2\" is not one of p256, p384, secp256k1, ed25519, rsa" ;;
  esac
  (umask 077 && openssl genpkey "${options[@]}" -out "$1" 2>"$WORK/genpkey.err") ||
    die "openssl genpkey failed: $(cat "$WORK/genpkey.err")"
  printf '%s\n' "$(public_key "$1")"
  ;;
pubkey)
  [[ $# -eq 1 ]] || usage_error 'pubkey KEYFILE'
  load_key "$1"
  printf '%s\n' "$PUBLIC_KEY"
  ;;
tasks)
  [[ $# -ge 1 && $# -le 3 ]] || usage_error 'tasks KEYFILE [LEVEL] [REQUEST_ID]'
  check_level "${2:-level1}"
  [[ -z ${3:-} ]] || check_uuid REQUEST_ID "$3"
  load_key "$1"
  answer=$(list_tasks "${2:-level1}" '' "${3:-}")
  tasks=$(split_tasks <<<"$answer")
  [[ -n $tasks ]] || printf '%s: no open tasks for this approver\n' "$PROGRAM" >&2
  while IFS= read -r task; do
    [[ -n $task ]] || continue
    printf '%s\t%s\t%s\t%s\n' "$(json_field id <<<"$task")" "$(json_field requestId <<<"$task")" \
      "$(json_field operation <<<"$task")" "$(json_field keyName <<<"$task")"
  done <<<"$tasks"
  ;;
show)
  [[ $# -ge 2 && $# -le 3 ]] || usage_error 'show KEYFILE TASK_ID [LEVEL]'
  check_uuid TASK_ID "$2"
  check_level "${3:-level5}"
  load_key "$1"
  one_task "$2" "${3:-level5}"
  ;;
approve)
  [[ $# -eq 2 ]] || usage_error 'approve KEYFILE TASK_ID'
  check_uuid TASK_ID "$2"
  load_key "$1"
  decide approve "$2"
  ;;
reject)
  [[ $# -ge 2 && $# -le 3 ]] || usage_error 'reject KEYFILE TASK_ID [REASON]'
  check_uuid TASK_ID "$2"
  load_key "$1"
  decide reject "$2" "${3:-}"
  ;;
help | -h | --help)
  usage
  ;;
*)
  usage >&2
  exit 2
  ;;
esac
