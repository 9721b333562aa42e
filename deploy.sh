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
# What the functions run on, enabled in the deploy project. iam is not used by the functions but by
# this script, to create their service accounts. The Google APIs the functions call for the user
# (Gmail, ...) come from the runner's list of functions and are checked in the project of the OAuth
# client, which is usually this one (see check_apis).
PLATFORM_APIS=(
  cloudfunctions.googleapis.com
  cloudbuild.googleapis.com
  run.googleapis.com
  artifactregistry.googleapis.com
  secretmanager.googleapis.com
  iam.googleapis.com
)
# What Cloud Build needs to build a function, and nothing more: Cloud Run Builder is the one role
# Google names for a build service account (upload, download and delete images in Artifact
# Registry, write the build's log, read the uploaded source). It is granted on the project because
# the gcf-artifacts repository and the source bucket are created by Cloud Functions during the
# first deploy, so they cannot be named before it.
BUILD_ROLES=(roles/run.builder)
# The roles this script granted the build account before it used Cloud Run Builder: broader, on
# the whole project. A run that finds them says how to remove them.
OLD_BUILD_ROLES=(roles/logging.logWriter roles/artifactregistry.writer roles/storage.objectViewer)
# What a first deploy needs on top of Editor, which may neither grant roles nor change who may use
# a service account or a secret.
readonly FIRST_DEPLOY_ROLES="Owner (roles/owner), or all three of Project IAM Admin (roles/resourcemanager.projectIamAdmin), Service Account Admin (roles/iam.serviceAccountAdmin) and Secret Manager Admin (roles/secretmanager.admin)"
# IAM is eventually consistent: a new service account, or a role just granted, reaches every Google
# service typically within 2 minutes, potentially 7 or more (IAM's "access change propagation").
# A call that IAM answers with "does not exist" for a new account, or, on an account this run
# created, with "denied ... (or it may not exist)", is tried again after each of these delays,
# 7 minutes in all, before giving up.
IAM_RETRY_DELAYS=(5 10 15 30 60 60 60 60 60 60)
# After creating an account or granting a role, the deploys start no sooner than this: a build
# whose account cannot write its log or read the source yet fails.
readonly IAM_PROPAGATION_SECONDS=120
# How long a browser keeps the session cookie, in hours: a cookie sealed with a key may come back
# that long after the key was replaced, so the key before the current one is kept (and a second
# rotation refused) until the current one is that old.
readonly COOKIE_LIFETIME_HOURS=48
readonly NEW_COOKIE_KEY_SHOWN="<(head -c 32 /dev/urandom | base64 | tr -d '\n')"
# What a dry run shows as the active gcloud account.
readonly DRY_ACCOUNT=ACCOUNT
# When a dry run takes the cookie key's versions to have been stored.
readonly DRY_CREATED=2000-01-01T00:00:00Z

project=""
region=""
client_secret=./client_secret.json
access_type=online
memory=256Mi
max_instances=10
dry_run=false
delete=false
rotate_cookie_key=false
key_leaked=false
allow_shared_origin=false
sequential=false
FUNCTIONS=()
# The Google API services the functions call, each once.
SERVICES=()
# The service accounts this run created, each between spaces.
created_accounts=" "
# Whether some function of the app is deployed already.
app_deployed=false
iam_changed_at=""
results=""

usage() {
  cat <<'EOF'
Usage: ./deploy.sh [options]

Deploys every function of the app (go run ./cmd -functions) as a separate Cloud Function (2nd gen),
each public (the browser calls them), all on https://REGION-PROJECT.cloudfunctions.net, running as
the service account gcf-oauth-gmail@PROJECT.iam.gserviceaccount.com, which may read only the two
secrets below, and built by Cloud Build as gcf-oauth-gmail-build@PROJECT.iam.gserviceaccount.com,
which has only the Cloud Run Builder role (write build logs, push images, read the uploaded source).
The Secret Manager secret gcf-oauth-gmail-client-secret holds the OAuth client JSON (mounted as a
file); gcf-oauth-gmail-cookie-key holds the key that seals the cookies (COOKIE_SECRET, and the key
before the last rotation as COOKIE_SECRET_PREVIOUS). Both are pinned to explicit versions.
Running it again changes only what changed. Needs gcloud, and Go to list the functions.

Options:
  --project ID            Google Cloud project (default: gcloud config get-value project)
  --region REGION         region of the functions, e.g. us-central1
                          (default: gcloud config get-value functions/region)
  --client-secret FILE    the "Web application" OAuth client JSON downloaded from the console
                          (default: client_secret.json); a relative path is read from the
                          repository root, next to deploy.sh, wherever this runs from; stored in
                          Secret Manager only when it changed, and never uploaded with the source
  --offline               ask Google for a refresh token (ACCESS_TYPE=offline), so a session outlives
                          the one-hour access token; the refresh token then lives in the cookie
  --rotate-cookie-key     store a new random cookie key and redeploy with it, keeping the key before
                          it as COOKIE_SECRET_PREVIOUS, so this signs nobody out; once every function
                          is deployed, the versions of the key older than those two are disabled.
                          A browser keeps a cookie 48 h, so the previous key must stay 48 h: a
                          rotation less than 48 h after the last one is refused
  --key-leaked            with --rotate-cookie-key: rotate even within 48 h of the last rotation,
                          which signs out everyone whose cookie the key before it sealed
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
Every run makes sure that anyone may call each function, and after deploying calls each one from
outside (with curl) to check that it answers, and that the sign-in sends the browser to Google.
Prints at the end a table of the functions (result, URL and that check), the redirect URI to
register on the OAuth client and the URL to open.
A first deploy needs Owner, or Project IAM Admin, Service Account Admin and Secret Manager Admin;
later runs need only Editor.
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
# reached every service yet), it tries again after each of IAM_RETRY_DELAYS; so it does while a
# call on an account this run created is denied "(or it may not exist)", as IAM answers calls on
# a new account for a while. It returns 75 when it gives up; 77, showing nothing, when the caller
# may not do what ARGS does (see iam_refusal); and 1, with gcloud's error shown, on any other
# failure.
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
    case $errors in
      *"may not exist"*)
        if [[ "$1 $2" != "iam service-accounts" ]] || ! has_word "$created_accounts" "$account"; then
          return 77
        fi
        ;;
      *PERMISSION_DENIED* | *"does not have permission"* | *"access denied"*) return 77 ;;
      *"does not exist"* | *NOT_FOUND* | *"not found"*) ;;
      *)
        printf '%s\n' "$errors" >&2
        return 1
        ;;
    esac
    printf '%s\n' "$errors" >&2
    if [[ $delay == stop ]]; then
      printf 'deploy.sh: error: %s\n' "IAM still does not know the service account $account ${waited}s after it was created, though new accounts usually reach every Google service within minutes: run ./deploy.sh again later (it goes on from where it stopped); if this keeps happening, see \"If the deploy fails\" in README.md" >&2
      return 75
    fi
    note "IAM does not know $account everywhere yet (a new account takes a while to propagate): trying again in ${delay}s"
    sleep "$delay"
    waited=$((waited + delay))
  done
}

# iam_refusal WHAT: stops, the deployer being refused WHAT (a gcloud command): one who may deploy
# functions but not grant roles, such as an Editor, on a project where the app's accounts and
# secrets lack what they need, which is a first deploy.
iam_refusal() {
  die "you (${deployer:-the active gcloud account}) may not change IAM policies in project $project: Google refused 'gcloud $1'. A first deploy creates two service accounts and grants them roles and the use of two secrets, which needs $FIRST_DEPLOY_ROLES; Editor is not enough. Have someone with them run ./deploy.sh once, or be granted them; after that, Editor is enough to run it again (it grants nothing that is in effect). See \"If the deploy fails\" in README.md"
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
    77) iam_refusal "$1 $2 $3" ;;
    *) die "gcloud $1 $2 $3 failed (the error is above): see \"If the deploy fails\" in README.md" ;;
  esac
}

# roles_of ACCOUNT MEMBER DRY_ANSWER ARGS...: the roles MEMBER has in the IAM policy that the
# get-iam-policy call ARGS reads, one a line; ACCOUNT is the service account it concerns. Returns
# 75 when IAM never came to know ACCOUNT, 77 when the deployer may not read the policy, 1 on any
# other failure.
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

# must_read_roles: the status of a roles_of whose answer the run cannot do without.
must_read_roles() {
  case $1 in
    0) ;;
    75) exit 1 ;;
    77) die "you (${deployer:-the active gcloud account}) may not read the IAM policies of project $project, which deploy.sh reads to grant only what is missing: see \"If the deploy fails\" in README.md" ;;
    *) die "reading an IAM policy failed (the error is above): see \"If the deploy fails\" in README.md" ;;
  esac
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

# has_word TEXT WORD: whether WORD is one of the words of TEXT, which are separated by spaces.
has_word() {
  [[ " $1 " == *" $2 "* ]]
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
      --key-leaked) key_leaked=true ;;
      --allow-shared-origin) allow_shared_origin=true ;;
      --sequential) sequential=true ;;
      --dry-run) dry_run=true ;;
      --delete) delete=true ;;
      *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
  done
  if $key_leaked && ! $rotate_cookie_key; then
    die "--key-leaked goes with --rotate-cookie-key (see --help)"
  fi
}

# The client secret file: a relative path is taken from the repository root, where this script
# lives and runs, so that it names the same file from any directory.
resolve_client_secret() {
  local called_from=$1
  case $client_secret in
    /*) client_secret_file=$client_secret ;;
    *) client_secret_file=$PWD/${client_secret#./} ;;
  esac
  if [[ ! -e $client_secret_file && $client_secret != /* && $called_from != "$PWD" &&
    -f $called_from/$client_secret ]]; then
    die "client secret file $client_secret not found in the repository root ($PWD): a relative --client-secret is read from there, wherever deploy.sh runs from; pass $called_from/${client_secret#./}"
  fi
}

require_gcloud() {
  command -v gcloud >/dev/null 2>&1 ||
    die "gcloud not found on PATH: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)"
}

# The functions come from the one table of them in the Go package, as the local runner prints it
# (a line per function: its name, then the Google API services it calls), so a function added there
# is deployed (and deleted) with the others, and its APIs checked. One go run per deploy.sh run:
# nothing else needs the runner, so building it separately would not save anything.
list_functions() {
  command -v go >/dev/null 2>&1 ||
    die "go not found on PATH: deploy.sh lists the app's functions with 'go run ./cmd -functions'; install Go (https://go.dev/dl/)"
  local listed line name service services
  listed=$(go run ./cmd -functions) ||
    die "'go run ./cmd -functions' failed (its error is above): deploy.sh takes the list of functions from it"
  while IFS= read -r line; do
    read -r name services <<<"$line"
    if [[ -z $name ]]; then
      continue
    fi
    [[ $name =~ ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
      die "'go run ./cmd -functions' printed \"$name\", which is not a valid Cloud Functions name (lower-case letters, digits and hyphens)"
    FUNCTIONS+=("$name")
    for service in $services; do
      [[ $service =~ ^[a-z0-9][a-z0-9.-]*\.googleapis\.com$ ]] ||
        die "'go run ./cmd -functions' printed \"$service\" as a service of $name, which is not a Google API service name (such as gmail.googleapis.com)"
      if ! has_word "${SERVICES[*]-}" "$service"; then
        SERVICES+=("$service")
      fi
    done
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
    client_secret_problem "client secret file $client_secret not found ($client_secret_file): download the OAuth client's JSON from APIs & Services > Credentials, or pass --client-secret FILE"
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
  local enabled missing owner wanted=("${PLATFORM_APIS[@]}")
  # Google counts a user's calls to an API against the project of the OAuth client that got the
  # token: that is where the functions' APIs must be enabled.
  owner=$(client_project)
  if [[ (-z $owner || $owner == "$project") && ${#SERVICES[@]} -gt 0 ]]; then
    wanted+=("${SERVICES[@]}")
  fi
  enabled=$(read_gcloud "$(printf '%s\n' "${wanted[@]}")" \
    services list --enabled --project="$project" --format='value(config.name)')
  missing=$(missing_from "$enabled" "${wanted[@]}")
  [[ -z $missing ]] ||
    die "API(s) not enabled in project $project:$missing; enable them with: gcloud services enable$missing --project=$project"
  if [[ -n $owner && $owner != "$project" && ${#SERVICES[@]} -gt 0 ]]; then
    check_services_in "$owner"
  fi
}

# missing_from LINES NAME...: the NAMEs that are not lines of LINES, each after a space.
missing_from() {
  local lines=$1 name missing=""
  shift
  for name in "$@"; do
    has_line "$lines" "$name" || missing="$missing $name"
  done
  printf '%s' "$missing"
}

# check_services_in PROJECT: the OAuth client belongs to PROJECT, not to the deploy project: the
# functions' APIs must be enabled there.
check_services_in() {
  local owner=$1 enabled missing all=" ${SERVICES[*]}"
  if ! enabled=$(read_gcloud "$(printf '%s\n' "${SERVICES[@]}")" services list --enabled \
    --project="$owner" --format='value(config.name)' 2>/dev/null); then
    warn "$client_secret belongs to project $owner, not $project: the functions' APIs ($all ) must be enabled in $owner, where the OAuth client lives, and deploy.sh cannot check it because it cannot read that project's services (gcloud services list --enabled --project=$owner failed); if in doubt, have its owner run: gcloud services enable$all --project=$owner"
    return 0
  fi
  missing=$(missing_from "$enabled" "${SERVICES[@]}")
  [[ -z $missing ]] ||
    die "API(s) not enabled in project $owner, where the OAuth client of $client_secret lives:$missing (the app calls them as that client, whichever project runs the functions); enable them with: gcloud services enable$missing --project=$owner"
  warn "$client_secret belongs to project $owner, not $project: the calls to$all count against $owner, where they are enabled"
}

# Every function of a project and region is served on REGION-PROJECT.cloudfunctions.net: any other
# function there is same-origin with this app and receives its session cookie.
check_shared_origin() {
  local listed name others=""
  listed=$(read_gcloud "$(dry "" "$(printf '%s\n' "${FUNCTIONS[@]}")")" \
    functions list --regions="$region" --project="$project" --format='value(name.basename())')
  while IFS= read -r name; do
    if [[ -z $name ]]; then
      continue
    elif is_app_function "$name"; then
      app_deployed=true
    else
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

# ensure_account EMAIL ID: creates the service account unless it exists. A create that finds it
# (IAM's describe may not see an account yet that its create does) is as good as a describe that
# does.
ensure_account() {
  local email=$1 id=$2 errors
  if exists iam service-accounts describe "$email" --project="$project"; then
    return 0
  fi
  local args=(iam service-accounts create "$id" --display-name="$id" --project="$project")
  show gcloud "${args[@]}"
  iam_changed_at=$SECONDS
  if $dry_run; then
    created_accounts="$created_accounts$email "
    return 0
  fi
  if errors=$(gcloud "${args[@]}" 2>&1); then
    if [[ -n $errors ]]; then
      printf '%s\n' "$errors" >&2
    fi
    created_accounts="$created_accounts$email "
    return 0
  fi
  case $errors in
    *ALREADY_EXISTS* | *"already exists"*)
      note "service account $email already exists: using it"
      ;;
    *)
      printf '%s\n' "$errors" >&2
      die "gcloud iam service-accounts create $id failed (the error is above): see \"If the deploy fails\" in README.md"
      ;;
  esac
}

# The active gcloud account, the one deploying: deployer, and member, as IAM policies name it.
find_deployer() {
  if $dry_run; then
    show gcloud config get-value account
    deployer=$DRY_ACCOUNT
  else
    deployer=$(config_value account)
  fi
  case $deployer in
    "") deployer_member="" ;;
    *.gserviceaccount.com) deployer_member=serviceAccount:$deployer ;;
    *) deployer_member=user:$deployer ;;
  esac
}

# Builds run as an account of this app's own: since July 2024 the default Cloud Build account of a
# new project may lack what a function build needs, and --quiet would hide gcloud's warning. It
# gets BUILD_ROLES on the project, those it lacks only.
ensure_build_account() {
  local granted role status=0 old=""
  ensure_account "$build_account" "$BUILD_ACCOUNT_ID"
  granted=$(roles_of "$build_account" "serviceAccount:$build_account" \
    "$(dry "" "$(printf '%s\n' "${BUILD_ROLES[@]}")")" projects get-iam-policy "$project") || status=$?
  must_read_roles "$status"
  for role in "${BUILD_ROLES[@]}"; do
    if ! has_line "$granted" "$role"; then
      change_iam "$build_account" projects add-iam-policy-binding "$project" \
        --member="serviceAccount:$build_account" --role="$role" --condition=None --format=none
    fi
  done
  for role in "${OLD_BUILD_ROLES[@]}"; do
    if has_line "$granted" "$role"; then
      old="$old $role"
    fi
  done
  if [[ -n $old ]]; then
    warn "$build_account still has roles that an earlier deploy.sh granted and that Cloud Run Builder makes needless:$old; remove each with: gcloud projects remove-iam-policy-binding $project --member=serviceAccount:$build_account --condition=None --role=ROLE"
  fi
}

# Deploying a function that runs as, or is built by, a service account needs the permission to act
# as it (iam.serviceAccounts.actAs). Project owners and editors have it for every account of the
# project, and are not granted it again; anyone else gets the Service Account User role on these
# two accounts only.
let_deployer_act_as() {
  local roles account status=0
  if [[ -z $deployer ]]; then
    note "no active gcloud account (gcloud config get-value account): not checking that you may act as $service_account and $build_account"
    return 0
  fi
  roles=$(roles_of "" "$deployer_member" "" projects get-iam-policy "$project") || status=$?
  if [[ $status == 0 ]] && { has_line "$roles" roles/owner || has_line "$roles" roles/editor; }; then
    return 0
  fi
  for account in "$service_account" "$build_account"; do
    status=0
    roles=$(roles_of "$account" "$deployer_member" "$(dry "" roles/iam.serviceAccountUser)" \
      iam service-accounts get-iam-policy "$account" --project="$project") || status=$?
    if [[ $status == 75 ]]; then
      exit 1
    elif [[ $status != 0 ]]; then
      note "cannot read the IAM policy of $account: not granting $deployer the role to act as it, which a project owner or editor does not need"
      continue
    fi
    if ! has_line "$roles" roles/iam.serviceAccountUser; then
      change_iam "$account" iam service-accounts add-iam-policy-binding "$account" --project="$project" \
        --member="$deployer_member" --role=roles/iam.serviceAccountUser --format=none
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

# The cookie key's versions, newest first: "NUMBER STATE CREATED" lines, CREATED in UTC, as
# 2026-12-01T09:30:00.123456Z.
cookie_key_versions() {
  read_gcloud "$(dry "1 ENABLED $DRY_CREATED" $'2 ENABLED '"$DRY_CREATED"$'\n1 ENABLED '"$DRY_CREATED")" \
    secrets versions list "$COOKIE_KEY_NAME" --project="$project" \
    --format='value(name.basename(),state,createTime)' | LC_ALL=C sort -rn
}

# hours_ago N: the UTC time N hours ago, as 2026-12-01T09:30:00, which compares as text with the
# times Secret Manager gives. GNU date, else BSD's.
hours_ago() {
  local then=$(($(date -u +%s) - $1 * 3600))
  date -u -d "@$then" +%Y-%m-%dT%H:%M:%S 2>/dev/null || date -u -r "$then" +%Y-%m-%dT%H:%M:%S
}

# A rotation drops the key before the current one from the functions. A browser keeps a cookie
# COOKIE_LIFETIME_HOURS, so a cookie sealed with that key just before the current one replaced it
# may come back until the current one is that old: until then, rotating again would sign its
# owner out. Allowed with --key-leaked, for a key that must stop opening cookies at once, and when
# no key before the current one is mounted.
check_rotation_age() {
  local number state created previous="" cutoff current="" stored=""
  while read -r number state created; do
    if [[ -z $current ]]; then
      if [[ $state == ENABLED ]]; then
        current=$number
        stored=$created
      fi
      continue
    fi
    previous=$state
    break
  done < <(cookie_key_versions)
  if [[ $previous != ENABLED ]] || $key_leaked; then
    return 0
  fi
  cutoff=$(hours_ago "$COOKIE_LIFETIME_HOURS")
  if [[ $stored > "$cutoff" ]]; then
    die "refusing to rotate the cookie key: the key in use (version $current) was stored at ${stored%%.*}Z, less than ${COOKIE_LIFETIME_HOURS} h ago, and a browser keeps the session cookie ${COOKIE_LIFETIME_HOURS} h, so cookies sealed with the key before it may still come back; rotating now would drop that key and sign their owners out. Rotate again after ${COOKIE_LIFETIME_HOURS} h, or, if a key leaked, pass --key-leaked as well (see \"Rotating the cookie key\" in README.md)"
  fi
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
    check_rotation_age
    change_with_input new_cookie_key "$NEW_COOKIE_KEY_SHOWN" secrets versions add "$COOKIE_KEY_NAME" \
      --data-file=- --project="$project"
  fi
  versions=$(cookie_key_versions)
  cookie_key_version=""
  previous_cookie_key_version=""
  unmounted_cookie_keys=""
  local before_current=false
  while read -r number state _; do
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
  done <<<"$versions"
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
  local secret roles member=serviceAccount:$service_account status
  for secret in "$CLIENT_SECRET_NAME" "$COOKIE_KEY_NAME"; do
    status=0
    roles=$(roles_of "$service_account" "$member" "$(dry "" roles/secretmanager.secretAccessor)" \
      secrets get-iam-policy "$secret" --project="$project") || status=$?
    must_read_roles "$status"
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
# It refuses to deploy when one of them holds what the client secret file holds, whatever its name
# or path: a copy, a link, or the file itself.
hash_upload() {
  local files sums secret_sum="" leaked
  files=$(read_gcloud "" meta list-files-for-upload .)
  refuse_secret_uploads "$files"
  sums=$(printf '%s\n' "$files" | LC_ALL=C sort | while IFS= read -r file; do
    if [[ -n $file ]]; then
      printf '%s %s\n' "$(sha256 <"$file")" "$file"
    fi
  done)
  if [[ -f $client_secret_file && -r $client_secret_file ]]; then
    secret_sum=$(sha256 <"$client_secret_file")
  fi
  if [[ -n $secret_sum && -n $sums ]]; then
    leaked=$(printf '%s\n' "$sums" | grep -F "$secret_sum " | head -n 1) || true
    [[ -z $leaked ]] ||
      die "refusing to deploy: ${leaked#* } would be uploaded with the source, and it holds the OAuth client secret (it is $client_secret, or a copy of it); list it in .gcloudignore, or keep the file outside the repository and pass its path with --client-secret"
  fi
  upload_digest=$(printf '%s\n' "$sums" | sha256)
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

# deploy_function NAME: deploys NAME unless it is up to date, makes it public unless it is, and
# records the result. It runs as a background job: it returns non-zero instead of relying on set -e.
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
  current=$(describe_function "$name")
  local result=deployed
  if [[ $current == "ACTIVE"$'\t'"$wanted" ]]; then
    note "$name is up to date"
    result=unchanged
  elif ! change "${settings[@]}" --update-labels="deploy-hash=$wanted" --quiet; then
    # gcloud makes the function public after deploying it: a failure there (an organisation
    # policy) leaves it deployed but private, which ensure_public says plainly.
    if [[ $(describe_function "$name") != "ACTIVE"$'\t'"$wanted" ]]; then
      record "$name" failed
      return 1
    fi
  elif $dry_run; then
    result="dry run"
  fi
  local status=0
  ensure_public "$name" || status=$?
  case $status in
    0) ;;
    2) [[ $result == deployed ]] || result="made public" ;;
    3) result=private ;;
    *) result=failed ;;
  esac
  record "$name" "$result"
  [[ $result != failed ]]
}

# describe_function NAME: the function's state and deploy-hash label, separated by a tab; empty
# when it does not exist.
describe_function() {
  read_gcloud "" functions describe "$1" --gen2 --region="$region" --project="$project" \
    --format='value(state,labels.deploy-hash)' 2>/dev/null || true
}

# ensure_public NAME: anyone may call the function (the browser calls it directly): the allUsers
# member has the Cloud Run Invoker role on its service. gcloud grants it after a deploy with
# --allow-unauthenticated, but nothing repairs it if that failed, or if it was removed since: this
# checks it on every run. Returns 0 when it was in effect, 2 when it was added now, 3 when an
# organisation policy refuses it, 1 on any other failure (gcloud's error shown).
ensure_public() {
  local name=$1 roles errors
  local service=(run services add-iam-policy-binding "$name" --region="$region" --project="$project"
    --member=allUsers --role=roles/run.invoker --format=none)
  roles=$(read_gcloud roles/run.invoker run services get-iam-policy "$name" --region="$region" \
    --project="$project" --flatten='bindings[].members' --filter=bindings.members:allUsers \
    --format='value(bindings.role)') || return 1
  if has_line "$roles" roles/run.invoker; then
    return 0
  fi
  show gcloud "${service[@]}"
  if errors=$(gcloud "${service[@]}" 2>&1); then
    note "$name was not public: anyone may call it now"
    return 2
  fi
  case $errors in
    *"permitted customer"*)
      warn "$name is deployed but private: an organisation policy refuses to let anyone call it (Google answered: users \"do not belong to a permitted customer\")"
      return 3
      ;;
  esac
  printf '%s\n' "$errors" >&2
  return 1
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
# run lists them in order. The first deploy of a function in a project and region creates the
# gcf-artifacts repository that all of them share, and several deploys that create it at once can
# fail ("Unable to retrieve the repository metadata"): when no function of the app exists yet, the
# first one deploys alone, then the others at once. Sets failed and private to the names of those
# that failed, and of those that are deployed but private.
deploy_functions() {
  local name pids="" pid first=""
  results=$(mktemp -d)
  trap 'rm -rf "$results"' EXIT
  if ! $app_deployed && ! $sequential && [[ ${#FUNCTIONS[@]} -gt 1 ]]; then
    first=${FUNCTIONS[0]}
    note "first deploy of the app here: $first deploys alone, creating the gcf-artifacts repository of Artifact Registry that every function's image goes to, then the others at once"
  fi
  for name in "${FUNCTIONS[@]}"; do
    if $dry_run; then
      deploy_function "$name" || true
    elif $sequential || [[ $name == "$first" ]]; then
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
  private=""
  for name in "${FUNCTIONS[@]}"; do
    if [[ ! -f $results/$name || $(<"$results/$name") == failed ]]; then
      record "$name" failed
      failed="${failed:+$failed, }$name"
    elif [[ $(<"$results/$name") == private ]]; then
      private="${private:+$private, }$name"
    fi
  done
}

# The host and path of a URL, for a table cell.
host_and_path() {
  local rest=${1#*://}
  printf '%s\n' "${rest%%\?*}"
}

# smoke_check NAME: calls the deployed function from outside, as a browser would, and prints what
# it found: "ok: ..." or "FAILED: ...". oauth2init must send the browser to Google's authorization
# endpoint (the OAuth client's auth_uri), not back to itself or anywhere else; the others must
# answer, with anything but a server error or the front end's refusal of a private function.
smoke_check() {
  local name=$1 answer code location
  answer=$(curl --silent --max-time 30 --output /dev/null --write-out '%{http_code} %{redirect_url}' \
    "$base_url/$name" 2>/dev/null) || true
  read -r code location <<<"$answer"
  code=${code:-000}
  case $name:$code in
    *:000) printf 'FAILED: no answer\n' ;;
    *:401 | *:403) printf 'FAILED: %s, not public\n' "$code" ;;
    *:5??) printf 'FAILED: %s\n' "$code" ;;
    oauth2init:30[1237])
      if [[ $location == "$auth_uri"\?* ]]; then
        printf 'ok: %s to %s\n' "$code" "$(host_and_path "$auth_uri")"
      elif [[ $location == "$base_url"/* || $location == /* ]]; then
        printf 'FAILED: %s back to %s, not to Google\n' "$code" "$(host_and_path "$location")"
      else
        printf 'FAILED: %s to %s, not to Google\n' "$code" "$(host_and_path "$location")"
      fi
      ;;
    oauth2init:*) printf "FAILED: %s, not a redirect to Google\n" "$code" ;;
    *) printf 'ok: answers %s\n' "$code" ;;
  esac
}

# Checks every function that is deployed and public from outside, into $results/NAME.check. Sets
# unhealthy to the names of those whose check failed.
smoke_check_functions() {
  local name result check
  unhealthy=""
  if $dry_run; then
    return 0
  fi
  if ! command -v curl >/dev/null 2>&1; then
    note "curl not found on PATH: not checking the deployed functions from outside"
    return 0
  fi
  auth_uri=$(sed -n 's/.*"auth_uri"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$client_secret_file" | head -n 1)
  auth_uri=${auth_uri//\\\//\/}
  auth_uri=${auth_uri:-https://accounts.google.com/o/oauth2/auth}
  for name in "${FUNCTIONS[@]}"; do
    result=$(<"$results/$name")
    if [[ $result == failed || $result == private ]]; then
      continue
    fi
    check=$(smoke_check "$name")
    case $check in
      "FAILED: no answer" | "FAILED: 5"*)
        # A new revision may still be starting: one more try.
        sleep 10
        check=$(smoke_check "$name")
        ;;
    esac
    printf '%s\n' "$check" >"$results/$name.check"
    if [[ $check == FAILED* ]]; then
      unhealthy="${unhealthy:+$unhealthy, }$name"
    fi
  done
}

print_table() {
  local name width=8 check
  for name in "${FUNCTIONS[@]}"; do
    if [[ ${#name} -gt $width ]]; then
      width=${#name}
    fi
  done
  printf '%-*s  %-11s  %-*s  %s\n' "$width" function result $((${#base_url} + width + 1)) URL check
  for name in "${FUNCTIONS[@]}"; do
    check=-
    if [[ -f $results/$name.check ]]; then
      check=$(<"$results/$name.check")
    fi
    printf '%-*s  %-11s  %-*s  %s\n' "$width" "$name" "$(<"$results/$name")" \
      $((${#base_url} + width + 1)) "$base_url/$name" "$check"
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
  find_deployer
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
  smoke_check_functions
  if $dry_run; then
    echo
  fi
  print_table
  warn_unregistered_redirect
  print_summary
  if [[ -n $private ]]; then
    printf 'deploy.sh: error: %s\n' "$private: deployed, but private. The browser calls the functions directly, without signing in to Google Cloud, so each must let anyone call it (allUsers has roles/run.invoker), and an organisation policy of project $project refuses that: Domain restricted sharing (constraints/iam.allowedPolicyMemberDomains) allows only members of your organisation in IAM policies. Ask an organisation policy administrator to allow all members in this project (for example by overriding that constraint on the project), or deploy to a project outside the organisation; then run ./deploy.sh again: it makes the functions public without deploying them again. See \"If the deploy fails\" in README.md" |
      fold -s -w 100 | sed 's/ *$//' >&2
    exit 1
  fi
  if [[ -n $failed ]] && $rotate_cookie_key; then
    die "the deploy of $failed failed (see the lines prefixed with its name above); the other functions finished. The new cookie key is stored: run ./deploy.sh again without --rotate-cookie-key to finish the rotation (what is up to date is skipped)"
  fi
  [[ -z $failed ]] ||
    die "the deploy of $failed failed (see the lines prefixed with its name above); the other functions finished. Run ./deploy.sh again to retry: what is up to date is skipped"
  [[ -z $unhealthy ]] ||
    die "the functions are deployed, but the check from outside of $unhealthy failed (the check column of the table says how); see \"If the deploy fails\" in README.md"
}

main() {
  local called_from=$PWD
  parse_args "$@"
  if $dry_run; then
    exec 3>&1
  else
    exec 3>&2
    require_gcloud
  fi
  # --source=., go.mod and ./cmd are relative to the repository root, where this script lives.
  cd "$(dirname "${BASH_SOURCE[0]}")"
  resolve_client_secret "$called_from"
  resolve_project_and_region
  list_functions
  if $delete; then
    delete_everything
  else
    deploy_everything
  fi
}

main "$@"
