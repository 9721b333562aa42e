#!/usr/bin/env bash
# Deploys every function of this repository (go run ./cmd -functions) as a separate Cloud Function
# (2nd gen), with the OAuth client secret and the cookie key kept in Secret Manager.
# ./deploy.sh --help says how.
set -euo pipefail

readonly APP=gcf-oauth-gmail
readonly BUILD_ACCOUNT_ID=$APP-build
readonly CLIENT_SECRET_NAME=$APP-client-secret
readonly COOKIE_KEY_NAME=$APP-cookie-key
readonly CLIENT_SECRET_MOUNT=/secrets/oauth/client_secret.json
# iam is not used by the functions but by this script, to create their service accounts. Gmail is
# checked in the project of the OAuth client, which is usually this one (see check_apis).
REQUIRED_APIS=(
  cloudfunctions.googleapis.com
  cloudbuild.googleapis.com
  run.googleapis.com
  artifactregistry.googleapis.com
  secretmanager.googleapis.com
  gmail.googleapis.com
  iam.googleapis.com
)
# What Cloud Build needs to build a function, and nothing more (Cloud Functions' guide to a custom
# build service account). They are granted on the project because the repository and the bucket
# they concern are created by Cloud Functions during the first deploy, so they cannot be named
# before it.
BUILD_ROLES=(
  # logging.logEntries.create: the build writes its log to Cloud Logging, where gcloud links to it.
  roles/logging.logWriter
  # Push the built image to the gcf-artifacts repository of Artifact Registry.
  roles/artifactregistry.writer
  # Read the uploaded source from the bucket gcf-v2-sources-PROJECT_NUMBER-REGION.
  roles/storage.objectViewer
)
# IAM is eventually consistent: a new service account, or a role just granted, reaches every Google
# service typically within 2 minutes, potentially 7 or more (IAM's "access change propagation").
# A call that IAM answers with "does not exist" for a new account is tried again after each of
# these delays, 7 minutes in all, before giving up.
IAM_RETRY_DELAYS=(5 10 15 30 60 60 60 60 60 60)
# After creating an account or granting a role, the deploys start no sooner than this: a build
# whose account cannot write its log or read the source yet fails.
readonly IAM_PROPAGATION_SECONDS=120
readonly NEW_COOKIE_KEY_SHOWN="<(head -c 32 /dev/urandom | base64 | tr -d '\n')"
# What a dry run shows as the active gcloud account.
readonly DRY_ACCOUNT=ACCOUNT

project=""
region=""
client_secret=./client_secret.json
access_type=online
memory=256Mi
max_instances=10
dry_run=false
delete=false
rotate_cookie_key=false
allow_shared_origin=false
sequential=false
FUNCTIONS=()
iam_changed_at=""
results=""

usage() {
  cat <<'EOF'
Usage: ./deploy.sh [options]

Deploys every function of the app (go run ./cmd -functions) as a separate Cloud Function (2nd gen),
each public (the browser calls them), all on https://REGION-PROJECT.cloudfunctions.net, running as
the service account gcf-oauth-gmail@PROJECT.iam.gserviceaccount.com, which may read only the two
secrets below, and built by Cloud Build as gcf-oauth-gmail-build@PROJECT.iam.gserviceaccount.com,
which may only write build logs, push images and read the uploaded source.
The Secret Manager secret gcf-oauth-gmail-client-secret holds the OAuth client JSON (mounted as a
file); gcf-oauth-gmail-cookie-key holds the key that seals the cookies (COOKIE_SECRET, and the key
before the last rotation as COOKIE_SECRET_PREVIOUS). Both are pinned to explicit versions.
Running it again changes only what changed. Needs gcloud, and Go to list the functions.

Options:
  --project ID            Google Cloud project (default: gcloud config get-value project)
  --region REGION         region of the functions, e.g. us-central1
                          (default: gcloud config get-value functions/region)
  --client-secret FILE    the "Web application" OAuth client JSON downloaded from the console
                          (default: ./client_secret.json); uploaded only when it changed
  --offline               ask Google for a refresh token (ACCESS_TYPE=offline), so a session outlives
                          the one-hour access token; the refresh token then lives in the cookie
  --rotate-cookie-key     store a new random cookie key and redeploy with it, keeping the key before
                          it as COOKIE_SECRET_PREVIOUS, so this signs nobody out; once every function
                          is deployed, the versions of the key older than those two are disabled
  --allow-shared-origin   deploy even if other functions run in the same project and region; they
                          share this app's host, its origin and its session cookie
  --sequential            deploy the functions one at a time instead of all at once
  --memory SIZE           memory of each function (default 256Mi)
  --max-instances N       instance cap of each function, a bound on cost (default 10)
  --dry-run               print the gcloud commands and run none (Go still lists the functions):
                          those of a first deploy, or with --delete or --rotate-cookie-key, those
                          for a project where the app is deployed; needs --project and --region
  --delete                delete every function of the app, the two secrets and the two service
                          accounts (with the build account's roles)
  -h, --help              show this help

Options are not remembered: pass the same ones on every run, or it redeploys with the defaults.
Prints at the end a table of the functions (result and URL), the redirect URI to register on the
OAuth client and the URL to open.
EOF
}

die() {
  printf 'deploy.sh: error: %s\n' "$*" >&2
  exit 1
}

warn() {
  printf 'deploy.sh: warning: %s\n' "$*" >&2
}

note() {
  printf 'deploy.sh: %s\n' "$*" >&2
}

# Where the commands are shown: stdout for a dry run (they are its output), stderr otherwise.
# A separate descriptor keeps them out of $(...) captures.
show() {
  printf '+ %s\n' "$*" >&3
}

# dry NEW DEPLOYED: what a dry run pretends a read answered. A dry run answers as a project where
# nothing is deployed yet, or, with --delete or --rotate-cookie-key, as one where the app is.
dry() {
  if $delete || $rotate_cookie_key; then
    printf '%s\n' "$2"
  else
    printf '%s\n' "$1"
  fi
}

# read_gcloud DRY_ANSWER ARGS...: a gcloud call that changes nothing. A dry run shows it instead and
# prints DRY_ANSWER.
read_gcloud() {
  local dry_answer=$1
  shift
  if $dry_run; then
    show gcloud "$@"
    printf '%s\n' "$dry_answer"
    return 0
  fi
  gcloud "$@"
}

# exists ARGS...: whether the describe call ARGS succeeds.
exists() {
  if $dry_run; then
    show gcloud "$@"
    $delete || $rotate_cookie_key
    return
  fi
  gcloud "$@" >/dev/null 2>&1
}

# change ARGS...: a gcloud call that changes the project. Its output goes to stderr: stdout carries
# only the summary.
change() {
  show gcloud "$@"
  if ! $dry_run; then
    gcloud "$@" >&2
  fi
}

# change_with_input PRODUCER SHOWN ARGS...: runs PRODUCER | gcloud ARGS. The data goes through the
# pipe only, never through an argument, a variable or a file.
change_with_input() {
  local producer=$1 shown=$2
  shift 2
  show gcloud "$@" "< $shown"
  if ! $dry_run; then
    "$producer" | gcloud "$@" >&2
  fi
}

# gcloud_iam ACCOUNT ARGS...: runs gcloud ARGS, a call that names the service account ACCOUNT, and
# passes its output on. While IAM answers that ACCOUNT does not exist (a new account has not
# reached every service yet), it tries again after each of IAM_RETRY_DELAYS. It returns 75 when it
# gives up, and 1, with gcloud's error shown, on any other failure.
gcloud_iam() {
  local account=$1 errors delay waited=0
  shift
  for delay in "${IAM_RETRY_DELAYS[@]}" stop; do
    if { errors=$(gcloud "$@" 2>&1 >&4); } 4>&1; then
      if [[ -n $errors ]]; then
        printf '%s\n' "$errors" >&2
      fi
      return 0
    fi
    printf '%s\n' "$errors" >&2
    case $errors in
      *"does not exist"* | *NOT_FOUND* | *"not found"*) ;;
      *) return 1 ;;
    esac
    if [[ $delay == stop ]]; then
      printf 'deploy.sh: error: %s\n' "IAM still does not know the service account $account ${waited}s after it was created, though new accounts usually reach every Google service within minutes: run ./deploy.sh again later (it goes on from where it stopped); if this keeps happening, see \"If the deploy fails\" in README.md" >&2
      return 75
    fi
    note "IAM does not know $account everywhere yet (a new account takes a while to propagate): trying again in ${delay}s"
    sleep "$delay"
    waited=$((waited + delay))
  done
}

# change_iam ACCOUNT ARGS...: change, for a call that names a service account IAM may not know yet.
# It records when IAM last changed, for wait_for_iam.
change_iam() {
  local account=$1
  shift
  show gcloud "$@"
  iam_changed_at=$SECONDS
  if $dry_run; then
    return 0
  fi
  local status=0
  gcloud_iam "$account" "$@" >&2 || status=$?
  case $status in
    0) ;;
    75) exit 1 ;;
    *) die "gcloud $1 $2 failed (the error is above): see \"If the deploy fails\" in README.md" ;;
  esac
}

# roles_of ACCOUNT MEMBER DRY_ANSWER ARGS...: the roles MEMBER has in the IAM policy that the
# get-iam-policy call ARGS reads, one a line; ACCOUNT is the service account it concerns. Returns
# 75 when IAM never came to know ACCOUNT, 1 on any other failure.
roles_of() {
  local account=$1 member=$2 dry_answer=$3
  shift 3
  local args=("$@" --flatten='bindings[].members' --filter="bindings.members:$member"
    --format='value(bindings.role)')
  if $dry_run; then
    read_gcloud "$dry_answer" "${args[@]}"
    return 0
  fi
  gcloud_iam "$account" "${args[@]}"
}

sha256() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then
    sum=$(sha256sum)
  else
    sum=$(shasum -a 256)
  fi
  printf '%s\n' "${sum%% *}"
}

read_client_secret() {
  cat -- "$client_secret_file"
}

new_cookie_key() {
  head -c 32 /dev/urandom | base64 | tr -d '\n'
}

# has_line TEXT LINE: whether LINE is one of TEXT's lines.
has_line() {
  [[ $'\n'$1$'\n' == *$'\n'$2$'\n'* ]]
}

need_value() {
  [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --*=*)
        set -- "${1%%=*}" "${1#*=}" "${@:2}"
        continue
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      --project) need_value "$@"; project=$2; shift ;;
      --region) need_value "$@"; region=$2; shift ;;
      --client-secret) need_value "$@"; client_secret=$2; shift ;;
      --memory) need_value "$@"; memory=$2; shift ;;
      --max-instances) need_value "$@"; max_instances=$2; shift ;;
      --offline) access_type=offline ;;
      --rotate-cookie-key) rotate_cookie_key=true ;;
      --allow-shared-origin) allow_shared_origin=true ;;
      --sequential) sequential=true ;;
      --dry-run) dry_run=true ;;
      --delete) delete=true ;;
      *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
  done
  case $client_secret in
    /*) client_secret_file=$client_secret ;;
    *) client_secret_file=$PWD/$client_secret ;;
  esac
}

require_gcloud() {
  command -v gcloud >/dev/null 2>&1 ||
    die "gcloud not found on PATH: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)"
}

# The functions come from the one table of them in the Go package, as the local runner prints it,
# so a function added there is deployed (and deleted) with the others. One go run per deploy.sh
# run: nothing else needs the runner, so building it separately would not save anything.
list_functions() {
  command -v go >/dev/null 2>&1 ||
    die "go not found on PATH: deploy.sh lists the app's functions with 'go run ./cmd -functions'; install Go (https://go.dev/dl/)"
  local listed name
  listed=$(go run ./cmd -functions) ||
    die "'go run ./cmd -functions' failed (its error is above): deploy.sh takes the list of functions from it"
  while IFS= read -r name; do
    if [[ -z $name ]]; then
      continue
    fi
    [[ $name =~ ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
      die "'go run ./cmd -functions' printed \"$name\", which is not a valid Cloud Functions name (lower-case letters, digits and hyphens)"
    FUNCTIONS+=("$name")
  done <<<"$listed"
  [[ ${#FUNCTIONS[@]} -gt 0 ]] || die "'go run ./cmd -functions' listed no function"
}

is_app_function() {
  local name
  for name in "${FUNCTIONS[@]}"; do
    if [[ $name == "$1" ]]; then
      return 0
    fi
  done
  return 1
}

config_value() {
  local value
  value=$(gcloud config get-value "$1" 2>/dev/null) || true
  if [[ $value != "(unset)" ]]; then
    printf '%s\n' "$value"
  fi
}

resolve_project_and_region() {
  if $dry_run; then
    [[ -n $project && -n $region ]] ||
      die "--dry-run runs no gcloud command, so it needs both --project and --region"
  fi
  [[ -n $project ]] || project=$(config_value project)
  [[ -n $project ]] || die "no project: pass --project PROJECT_ID or run: gcloud config set project PROJECT_ID"
  [[ -n $region ]] || region=$(config_value functions/region)
  [[ -n $region ]] ||
    die "no region: pass --region REGION (e.g. us-central1) or run: gcloud config set functions/region REGION"
  service_account=$APP@$project.iam.gserviceaccount.com
  build_account=$BUILD_ACCOUNT_ID@$project.iam.gserviceaccount.com
  base_url=https://$region-$project.cloudfunctions.net
}

read_go_runtime() {
  [[ -f go.mod ]] || die "go.mod not found next to deploy.sh"
  local version
  version=$(sed -n 's/^go[[:space:]]\{1,\}\([0-9]\{1,\}\)\.\([0-9]\{1,\}\).*$/\1\2/p' go.mod | head -n 1)
  [[ -n $version ]] || die "go.mod has no 'go 1.N' line to derive the Cloud Functions runtime from"
  runtime=go$version
}

# A dry run only warns: it previews, and a real run stops at the same problem.
client_secret_problem() {
  if $dry_run; then
    warn "$* (a real run stops here)"
  else
    die "$*"
  fi
}

check_client_secret_file() {
  if [[ ! -f $client_secret_file || ! -r $client_secret_file ]]; then
    client_secret_problem "client secret file $client_secret not found: download the OAuth client's JSON from APIs & Services > Credentials, or pass --client-secret FILE"
    return 0
  fi
  if ! grep -q '"web"' "$client_secret_file" || ! grep -q '"client_id"' "$client_secret_file"; then
    client_secret_problem "$client_secret is not the JSON of a \"Web application\" OAuth client (no \"web\" key with a \"client_id\"): create one of that type and download it"
  fi
}

# The project the OAuth client belongs to, as its JSON says; empty when unknown.
client_project() {
  if [[ -f $client_secret_file && -r $client_secret_file ]]; then
    sed -n 's/.*"project_id"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$client_secret_file" | head -n 1
  fi
}

check_apis() {
  local enabled api missing="" owner
  # Google counts a user's Gmail calls against the project of the OAuth client that got the token:
  # that is where the Gmail API must be enabled.
  owner=$(client_project)
  enabled=$(read_gcloud "$(printf '%s\n' "${REQUIRED_APIS[@]}")" \
    services list --enabled --project="$project" --format='value(config.name)')
  for api in "${REQUIRED_APIS[@]}"; do
    if [[ $api == gmail.googleapis.com && -n $owner && $owner != "$project" ]]; then
      continue
    fi
    if ! has_line "$enabled" "$api"; then
      missing="$missing $api"
    fi
  done
  [[ -z $missing ]] ||
    die "API(s) not enabled in project $project:$missing; enable them with: gcloud services enable$missing --project=$project"
  if [[ -n $owner && $owner != "$project" ]]; then
    check_gmail_api_in "$owner"
  fi
}

# check_gmail_api_in PROJECT: the OAuth client belongs to PROJECT, not to the deploy project.
check_gmail_api_in() {
  local owner=$1 enabled
  if ! enabled=$(read_gcloud gmail.googleapis.com services list --enabled --project="$owner" \
    --format='value(config.name)' 2>/dev/null); then
    warn "$client_secret belongs to project $owner, not $project: the Gmail API must be enabled in $owner, where the OAuth client lives, and deploy.sh cannot check it because it cannot read that project's services (gcloud services list --enabled --project=$owner failed); if in doubt, have its owner run: gcloud services enable gmail.googleapis.com --project=$owner"
    return 0
  fi
  has_line "$enabled" gmail.googleapis.com ||
    die "the Gmail API is not enabled in project $owner, where the OAuth client of $client_secret lives (the app calls Gmail as that client, whichever project runs the functions): enable it with: gcloud services enable gmail.googleapis.com --project=$owner"
  warn "$client_secret belongs to project $owner, not $project: Gmail calls count against $owner, where the Gmail API is enabled"
}

# Every function of a project and region is served on REGION-PROJECT.cloudfunctions.net: any other
# function there is same-origin with this app and receives its session cookie.
check_shared_origin() {
  local listed name others=""
  listed=$(read_gcloud "$(dry "" "$(printf '%s\n' "${FUNCTIONS[@]}")")" \
    functions list --regions="$region" --project="$project" --format='value(name.basename())')
  while IFS= read -r name; do
    if [[ -n $name ]] && ! is_app_function "$name"; then
      others="${others:+$others, }$name"
    fi
  done <<<"$listed"
  if [[ -z $others ]]; then
    return 0
  fi
  if $allow_shared_origin; then
    warn "--allow-shared-origin: $base_url also serves $others, which receive this app's session cookie and are same-origin with its pages"
    return 0
  fi
  printf 'deploy.sh: error: %s\n' "project $project already has functions in $region that are not part of this app: $others. Every function of a project and region is served on one host, $base_url, so each of them would receive this app's session cookie (the browser sends it with every request to that host, and it is as good as the signed-in session) and would be same-origin with this app's pages (its scripts could read them and act as the signed-in person). Deploy this app to a Google Cloud project of its own, where nothing else runs; or, if you trust every function listed as much as this app, pass --allow-shared-origin." |
    fold -s -w 100 | sed 's/ *$//' >&2
  exit 1
}

ensure_account() {
  local email=$1 id=$2
  if ! exists iam service-accounts describe "$email" --project="$project"; then
    change iam service-accounts create "$id" --display-name="$id" --project="$project"
    iam_changed_at=$SECONDS
  fi
}

# Builds run as an account of this app's own: since July 2024 the default Cloud Build account of a
# new project may lack what a function build needs, and --quiet would hide gcloud's warning. It
# gets BUILD_ROLES on the project, those it lacks only.
ensure_build_account() {
  local granted role
  ensure_account "$build_account" "$BUILD_ACCOUNT_ID"
  granted=$(roles_of "$build_account" "serviceAccount:$build_account" \
    "$(dry "" "$(printf '%s\n' "${BUILD_ROLES[@]}")")" projects get-iam-policy "$project")
  for role in "${BUILD_ROLES[@]}"; do
    if ! has_line "$granted" "$role"; then
      change_iam "$build_account" projects add-iam-policy-binding "$project" \
        --member="serviceAccount:$build_account" --role="$role" --condition=None --format=none
    fi
  done
}

# Deploying a function that runs as, or is built by, a service account needs the permission to act
# as it (iam.serviceAccounts.actAs). Project owners and editors have it for every account of the
# project; anyone else gets the Service Account User role on these two accounts only.
let_deployer_act_as() {
  local me member account roles status
  if $dry_run; then
    show gcloud config get-value account
    me=$DRY_ACCOUNT
  else
    me=$(config_value account)
  fi
  if [[ -z $me ]]; then
    note "no active gcloud account (gcloud config get-value account): not checking that you may act as $service_account and $build_account"
    return 0
  fi
  case $me in
    *.gserviceaccount.com) member=serviceAccount:$me ;;
    *) member=user:$me ;;
  esac
  for account in "$service_account" "$build_account"; do
    status=0
    roles=$(roles_of "$account" "$member" "$(dry "" roles/iam.serviceAccountUser)" \
      iam service-accounts get-iam-policy "$account" --project="$project") || status=$?
    if [[ $status == 75 ]]; then
      exit 1
    elif [[ $status != 0 ]]; then
      note "cannot read the IAM policy of $account (the error is above): not granting $me the role to act as it, which a project owner or editor does not need"
      continue
    fi
    if ! has_line "$roles" roles/iam.serviceAccountUser; then
      change_iam "$account" iam service-accounts add-iam-policy-binding "$account" --project="$project" \
        --member="$member" --role=roles/iam.serviceAccountUser --format=none
    fi
  done
}

latest_version() {
  read_gcloud 1 secrets versions describe latest --secret="$1" --project="$project" \
    --format='value(name.basename())'
}

# Compares hashes, so the stored secret is never held whole in a variable nor printed. A dry run
# for a deployed app takes the file as the one stored.
client_secret_is_current() {
  local stored wanted
  if $dry_run; then
    show gcloud secrets versions access latest --secret="$CLIENT_SECRET_NAME" --project="$project"
    return 0
  fi
  stored=$(gcloud secrets versions access latest --secret="$CLIENT_SECRET_NAME" --project="$project" |
    sha256) || die "cannot read the latest version of secret $CLIENT_SECRET_NAME"
  wanted=$(sha256 <"$client_secret_file")
  [[ $stored == "$wanted" ]]
}

ensure_client_secret() {
  if ! exists secrets describe "$CLIENT_SECRET_NAME" --project="$project"; then
    change_with_input read_client_secret "$client_secret" secrets create "$CLIENT_SECRET_NAME" \
      --replication-policy=automatic --data-file=- --project="$project"
  elif ! client_secret_is_current; then
    change_with_input read_client_secret "$client_secret" secrets versions add "$CLIENT_SECRET_NAME" \
      --data-file=- --project="$project"
  fi
  client_secret_version=$(latest_version "$CLIENT_SECRET_NAME")
}

# The cookie key: the newest enabled version is COOKIE_SECRET; the version just before it, if it is
# enabled, is COOKIE_SECRET_PREVIOUS, so that cookies sealed before the last rotation still open
# (and are re-sealed with the current key). A rotation adds a version. Once every function runs with
# this pair, the enabled versions that none of them mounts any more are disabled.
ensure_cookie_key() {
  local versions number state
  if ! exists secrets describe "$COOKIE_KEY_NAME" --project="$project"; then
    change_with_input new_cookie_key "$NEW_COOKIE_KEY_SHOWN" secrets create "$COOKIE_KEY_NAME" \
      --replication-policy=automatic --data-file=- --project="$project"
  elif $rotate_cookie_key; then
    change_with_input new_cookie_key "$NEW_COOKIE_KEY_SHOWN" secrets versions add "$COOKIE_KEY_NAME" \
      --data-file=- --project="$project"
  fi
  versions=$(read_gcloud "$(dry "1 ENABLED" $'2 ENABLED\n1 ENABLED')" secrets versions list \
    "$COOKIE_KEY_NAME" --project="$project" --format='value(name.basename(),state)')
  cookie_key_version=""
  previous_cookie_key_version=""
  unmounted_cookie_keys=""
  local before_current=false
  while read -r number state; do
    if [[ ! $number =~ ^[0-9]+$ ]]; then
      continue
    elif [[ -z $cookie_key_version ]]; then
      if [[ $state == ENABLED ]]; then
        cookie_key_version=$number
      fi
    elif ! $before_current; then
      before_current=true
      if [[ $state == ENABLED ]]; then
        previous_cookie_key_version=$number
      fi
    elif [[ $state == ENABLED ]]; then
      unmounted_cookie_keys="$unmounted_cookie_keys $number"
    fi
  done < <(printf '%s\n' "$versions" | LC_ALL=C sort -rn)
  [[ -n $cookie_key_version ]] ||
    die "secret $COOKIE_KEY_NAME has no enabled version: add one with ./deploy.sh --rotate-cookie-key"
}

disable_unmounted_cookie_keys() {
  local number
  for number in $unmounted_cookie_keys; do
    change secrets versions disable "$number" --secret="$COOKIE_KEY_NAME" --project="$project"
  done
}

grant_secret_access() {
  local secret roles member=serviceAccount:$service_account
  for secret in "$CLIENT_SECRET_NAME" "$COOKIE_KEY_NAME"; do
    roles=$(roles_of "$service_account" "$member" "$(dry "" roles/secretmanager.secretAccessor)" \
      secrets get-iam-policy "$secret" --project="$project")
    if ! has_line "$roles" roles/secretmanager.secretAccessor; then
      change_iam "$service_account" secrets add-iam-policy-binding "$secret" --project="$project" \
        --member="$member" --role=roles/secretmanager.secretAccessor --format=none
    fi
  done
}

# A last guard behind .gcloudignore: the secrets reach the functions through Secret Manager only.
refuse_secret_uploads() {
  local leaked
  leaked=$(printf '%s\n' "$1" |
    grep -E '(^|/)(client_secret[^/]*\.json|[^/]*\.(pem|key|p12)|\.env)$' | head -n 1) || true
  [[ -z $leaked ]] || die "refusing to deploy: $leaked would be uploaded with the source; list it in .gcloudignore"
}

# The digest of the files that gcloud uploads, as gcloud lists them after applying .gcloudignore.
hash_upload() {
  local files
  files=$(read_gcloud "" meta list-files-for-upload .)
  refuse_secret_uploads "$files"
  upload_digest=$(printf '%s\n' "$files" | LC_ALL=C sort | while IFS= read -r file; do
    if [[ -n $file ]]; then
      printf '%s %s\n' "$(sha256 <"$file")" "$file"
    fi
  done | sha256)
}

# The label that tells whether a deployed function already has this source and these settings.
# Label values hold at most 63 characters: 40 hex digits are plenty.
deploy_hash() {
  if $dry_run; then
    printf '%s\n' '<hash>'
    return 0
  fi
  local digest
  digest=$(printf '%s\n' "$upload_digest" "$@" | sha256)
  printf '%s\n' "${digest:0:40}"
}

# Waits, after this run created an account or granted a role, until IAM has had time to propagate
# it: the builds and the functions' first instances use them at once.
wait_for_iam() {
  if [[ -z $iam_changed_at ]]; then
    return 0
  fi
  if $dry_run; then
    note "a real run waits here until ${IAM_PROPAGATION_SECONDS}s have passed since the last account or role it created, for IAM to propagate it"
    return 0
  fi
  local left=$((IAM_PROPAGATION_SECONDS - (SECONDS - iam_changed_at)))
  if [[ $left -gt 0 ]]; then
    note "waiting ${left}s for IAM to propagate the new accounts and roles before the builds use them"
    sleep "$left"
  fi
}

record() {
  printf '%s\n' "$2" >"$results/$1"
}

# deploy_function NAME: deploys NAME unless it is up to date, and records the result. It runs as a
# background job: it returns non-zero instead of relying on set -e.
deploy_function() {
  local name=$1 wanted current secrets
  secrets="$CLIENT_SECRET_MOUNT=$CLIENT_SECRET_NAME:$client_secret_version"
  secrets="$secrets,COOKIE_SECRET=$COOKIE_KEY_NAME:$cookie_key_version"
  if [[ -n $previous_cookie_key_version ]]; then
    secrets="$secrets,COOKIE_SECRET_PREVIOUS=$COOKIE_KEY_NAME:$previous_cookie_key_version"
  fi
  local settings=(
    functions deploy "$name" --gen2 --runtime="$runtime" --entry-point="$name" --source=.
    --trigger-http --allow-unauthenticated --region="$region" --project="$project"
    --service-account="$service_account"
    --build-service-account="projects/$project/serviceAccounts/$build_account"
    --memory="$memory" --cpu=1 --concurrency=32 --timeout=30s --max-instances="$max_instances"
    --set-env-vars="REDIRECT_URL=$base_url/oauth2callback,CLIENT_SECRET_FILE=$CLIENT_SECRET_MOUNT,GOOGLE_CLOUD_PROJECT=$project,ACCESS_TYPE=$access_type"
    --set-secrets="$secrets"
  )
  wanted=$(deploy_hash "${settings[@]}") || return 1
  # A function whose last deploy failed is not ACTIVE: it is deployed again, whatever its label.
  current=$(read_gcloud "" functions describe "$name" --gen2 --region="$region" --project="$project" \
    --format='value(state,labels.deploy-hash)' 2>/dev/null) || current=""
  if [[ $current == "ACTIVE"$'\t'"$wanted" ]]; then
    note "$name is up to date"
    record "$name" unchanged
    return 0
  fi
  change "${settings[@]}" --update-labels="deploy-hash=$wanted" --quiet || return 1
  if $dry_run; then
    record "$name" "dry run"
  else
    record "$name" deployed
  fi
}

prefix_lines() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s %s\n' "$1" "$line"
  done
}

# One function's deploy, its output (commands, gcloud's messages) prefixed with its name.
deploy_job() {
  local name=$1
  {
    deploy_function "$name" || record "$name" failed
  } 3>&1 2>&1 | prefix_lines "[$name]" >&2
}

# Deploys the functions, all at once unless --sequential, and waits for every one of them; a dry
# run lists them in order. Sets failed to the names of those that failed.
deploy_functions() {
  local name pids="" pid
  results=$(mktemp -d)
  trap 'rm -rf "$results"' EXIT
  for name in "${FUNCTIONS[@]}"; do
    if $dry_run; then
      deploy_function "$name"
    elif $sequential; then
      deploy_job "$name"
    else
      deploy_job "$name" &
      pids="$pids $!"
    fi
  done
  for pid in $pids; do
    wait "$pid" || true
  done
  failed=""
  for name in "${FUNCTIONS[@]}"; do
    if [[ ! -f $results/$name || $(<"$results/$name") == failed ]]; then
      record "$name" failed
      failed="${failed:+$failed, }$name"
    fi
  done
}

print_table() {
  local name width=8
  for name in "${FUNCTIONS[@]}"; do
    if [[ ${#name} -gt $width ]]; then
      width=${#name}
    fi
  done
  printf '%-*s  %-9s  %s\n' "$width" function result URL
  for name in "${FUNCTIONS[@]}"; do
    printf '%-*s  %-9s  %s\n' "$width" "$name" "$(<"$results/$name")" "$base_url/$name"
  done
}

warn_unregistered_redirect() {
  local redirect=$base_url/oauth2callback
  [[ -f $client_secret_file ]] || return 0
  # Google writes the URIs plainly; a re-encoded file may escape the slashes.
  if ! grep -qF -e "\"$redirect\"" -e "\"${redirect//\//\\/}\"" "$client_secret_file"; then
    warn "$client_secret does not list $redirect in redirect_uris: add it to the client's Authorized redirect URIs (the sign-in fails with redirect_uri_mismatch until then)"
  fi
}

print_summary() {
  cat <<EOF

Authorized redirect URI to register on the OAuth client (APIs & Services > Credentials):
  $base_url/oauth2callback
Open:
  $base_url/oauth2init
EOF
}

remove() {
  local group=$1 name=$2
  shift 2
  local words
  read -r -a words <<<"$group"
  if exists "${words[@]}" describe "$name" "$@"; then
    change "${words[@]}" delete "$name" "$@" --quiet
  else
    note "$group $name is already gone"
  fi
}

# Removes the build account's roles on the project, then the account: a deleted account's bindings
# would otherwise stay in the project's policy as deleted:serviceAccount:... members.
remove_build_account() {
  local granted role
  if ! exists iam service-accounts describe "$build_account" --project="$project"; then
    note "iam service-accounts $build_account is already gone"
    return 0
  fi
  granted=$(roles_of "$build_account" "serviceAccount:$build_account" \
    "$(printf '%s\n' "${BUILD_ROLES[@]}")" projects get-iam-policy "$project")
  while IFS= read -r role; do
    if [[ -n $role ]]; then
      change projects remove-iam-policy-binding "$project" --member="serviceAccount:$build_account" \
        --role="$role" --condition=None --format=none
    fi
  done <<<"$granted"
  change iam service-accounts delete "$build_account" --project="$project" --quiet
}

delete_everything() {
  local name
  for name in "${FUNCTIONS[@]}"; do
    remove functions "$name" --gen2 --region="$region" --project="$project"
  done
  remove secrets "$CLIENT_SECRET_NAME" --project="$project"
  remove secrets "$COOKIE_KEY_NAME" --project="$project"
  remove_build_account
  remove "iam service-accounts" "$service_account" --project="$project"
}

deploy_everything() {
  read_go_runtime
  check_client_secret_file
  check_apis
  check_shared_origin
  hash_upload
  ensure_account "$service_account" "$APP"
  ensure_build_account
  let_deployer_act_as
  ensure_client_secret
  ensure_cookie_key
  grant_secret_access
  wait_for_iam
  deploy_functions
  if [[ -z $failed ]]; then
    disable_unmounted_cookie_keys
  fi
  if $dry_run; then
    echo
  fi
  print_table
  warn_unregistered_redirect
  print_summary
  if [[ -n $failed ]] && $rotate_cookie_key; then
    die "the deploy of $failed failed (see the lines prefixed with its name above); the other functions finished. The new cookie key is stored: run ./deploy.sh again without --rotate-cookie-key to finish the rotation (what is up to date is skipped)"
  fi
  [[ -z $failed ]] ||
    die "the deploy of $failed failed (see the lines prefixed with its name above); the other functions finished. Run ./deploy.sh again to retry: what is up to date is skipped"
}

main() {
  parse_args "$@"
  if $dry_run; then
    exec 3>&1
  else
    exec 3>&2
    require_gcloud
  fi
  # --source=., go.mod and ./cmd are relative to the repository root, where this script lives.
  cd "$(dirname "${BASH_SOURCE[0]}")"
  resolve_project_and_region
  list_functions
  if $delete; then
    delete_everything
  else
    deploy_everything
  fi
}

main "$@"
