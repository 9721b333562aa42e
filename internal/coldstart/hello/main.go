// Command hello is the cold-start baseline: one trivial HTTP function,
// registered with functions-framework-go and started the way the Cloud
// Functions Go buildpack's generated main starts a function.
package main

import (
	"io"
	"log"
	"net/http"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
)

func init() {
	functions.HTTP("hello", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "Hello, World!\n")
	})
}

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
