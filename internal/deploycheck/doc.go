// Package deploycheck holds the tests of the deployment tooling: deploy.sh and .gcloudignore at the
// repository root. It has no code of its own, and none of its tests reaches Google or the network.
//
// Some run deploy.sh against a stub gcloud (testdata/gcloud) that records every call and plays a
// Google Cloud project from a directory, so they check what the script would do to a real project.
//
// Others check that what deploy.sh deploys builds and runs as Cloud Functions builds and runs it.
// The upload is the working tree less what .gcloudignore excludes, matched by git with the file
// types of the working tree, as gcloud matches it. It is built as Google's Go buildpack builds a
// function today: moved into serverless_function_source_code/, which stays the function's own
// module; a generated main package, written in serverless_function_source_code/functions.local/app/,
// imports the function package and starts functions-framework; a plain go mod tidy runs in
// serverless_function_source_code/ over every package of the module, so an uploaded package whose
// import was left behind fails the build there; then go build of functions.local/app, with no flags.
// The go commands use this machine's module cache with GOPROXY=off, and a test checks that tidy
// needed nothing the repository's go.sum lacks. Before them, go mod tidy -diff in the repository,
// with the go command's own settings, downloads into the cache what tidy loads and a fresh cache
// lacks (nothing, and no network, once it is there). The build runs once per test binary.
//
// The program then runs once per function of the app's Functions(), in a copy of the image's
// working directory (serverless_function_source_code/ and nothing else), with the variables the
// platform sets (FUNCTION_TARGET, FUNCTION_SIGNATURE_TYPE, K_SERVICE, K_REVISION, K_CONFIGURATION,
// PORT) and the settings of deploy.sh --dry-run, the client secret a file mounted outside the source.
// For the deployed topology, the functions run as separate processes behind an HTTPS front end that
// routes /<function> to each one's "/" as https://REGION-PROJECT.cloudfunctions.net does, with
// internal/fakegoogle in Google's place: a sign-in across instances, a key rotation as
// deploy.sh --rotate-cookie-key deploys it, HSTS on every response, and a sign-in started on a
// function's own run.app address.
package deploycheck
