// Command app starts this module's functions exactly as the Cloud
// Functions Go buildpack's generated main does (and as
// internal/coldstart/hello starts its trivial function): a blank import of
// the function package, whose init registers the functions, then
// functions-framework on $PORT. Unlike the local runner (./cmd), it has no
// demo emulator and loads the configuration on the first request, as a
// deployed function does.
package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "example.com/gcf-oauth-gmail"
)

func main() {
	port := "8080"
	if envPort := os.Getenv("PORT"); envPort != "" {
		port = envPort
	}
	hostname := ""
	if os.Getenv("LOCAL_ONLY") == "true" {
		hostname = "127.0.0.1"
	}
	if err := funcframework.StartHostPort(hostname, port); err != nil {
		log.Fatalf("funcframework.StartHostPort: %v\n", err)
	}
}
