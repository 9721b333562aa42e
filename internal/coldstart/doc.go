// Package coldstart holds the programs scripts/coldstart.sh uses to compare
// the functions' cold start with a functions-framework hello world:
//
//   - hello: a trivial HTTP function started exactly as the Cloud Functions
//     Go buildpack starts a function, the baseline; built with -tags
//     withgmail it also links the Gmail client, the floor of any function
//     that uses it;
//   - app: this module's functions started the same way, which is what a
//     deployed function runs;
//   - measure: starts a binary again and again and reports the time from
//     process start to the first answered request, and the idle RSS.
//
// None of them is part of the deployed functions.
package coldstart
