// Package deploycheck holds the tests of the deployment tooling: deploy.sh and .gcloudignore at the
// repository root. It has no code of its own; its tests run deploy.sh against a stub gcloud
// (testdata/gcloud) that records every call and plays a Google Cloud project from a directory, so
// they check what the script would do to a real project without reaching the network.
package deploycheck
