// Package deploycheck holds the tests of the deployment tooling: deploy.sh and .gcloudignore at the
// repository root. It has no code of its own, and none of its tests reaches Google or the network.
//
// Some run deploy.sh against a stub gcloud (testdata/gcloud) that records every call and plays a
// Google Cloud project from a directory, so they check what the script would do to a real project.
//
// Others check that what deploy.sh deploys builds and runs as Cloud Functions runs it. They copy the
// files gcloud would upload (the working tree less what .gcloudignore excludes, matched by git) into
// serverless_function_source_code/ and build them as Google's Go buildpack does: a generated main
// package, in a module of its own, imports the function package by its module path through a
// replace directive and starts functions-framework. The build runs once per test binary. The
// program then runs once per function with FUNCTION_TARGET and the platform's environment, and,
// for the deployed topology, the four functions run as separate processes configured from the flags
// of deploy.sh --dry-run, behind an HTTPS front end that routes /<function> to each one's "/" as
// https://REGION-PROJECT.cloudfunctions.net does, with internal/fakegoogle in Google's place.
package deploycheck
