#!/usr/bin/env bash
# A stand-in for curl in the deploy.sh tests, installed as "curl" on their PATH: the deployed
# functions of the gcloud stub's project ($GCLOUD_STUB_STATE), as a browser reaches them at
# https://REGION-PROJECT.cloudfunctions.net/NAME. It answers deploy.sh's one kind of call, which
# prints "STATUS REDIRECT_URL", and appends each call to $CURL_STUB_LOG:
#   functions/NAME/http   the answer, when the test sets one ("302 https://...", "500 ")
#   otherwise             404 when NAME is not deployed in that region; 403 when allUsers may not
#                         call it; for oauth2init, 302 to Google's authorization endpoint; else 200
set -euo pipefail

state=${GCLOUD_STUB_STATE:?}
printf 'curl %s\n' "$*" >>"${CURL_STUB_LOG:?}"
url=${*: -1}
expected=(--silent --max-time 30 --output /dev/null --write-out '%{http_code} %{redirect_url}' "$url")
if [[ "$*" != "${expected[*]}" ]]; then
  printf 'curl stub: unsupported: curl %s\n' "$*" >&2
  exit 2
fi
if [[ ! $url =~ ^https://([a-z0-9-]+)-([a-z0-9-]+)\.cloudfunctions\.net/([a-z0-9-]+)$ ]]; then
  printf 'curl: (6) Could not resolve host in %s\n' "$url" >&2
  printf '000 '
  exit 6
fi
name=${BASH_REMATCH[3]}
dir=$state/functions/$name
if [[ -f $dir/http ]]; then
  printf '%s' "$(<"$dir/http")"
elif [[ ! -d $dir ]] || [[ $url != https://$(cat "$dir/region")-* ]]; then
  printf '404 '
elif ! grep -qxF allUsers "$dir/invokers" 2>/dev/null; then
  printf '403 '
elif [[ $name == oauth2init ]]; then
  printf '302 https://accounts.google.com/o/oauth2/auth?response_type=code&client_id=1234-test.apps.googleusercontent.com'
else
  printf '200 '
fi
