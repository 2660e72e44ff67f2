// Command oci-registry serves the CNCF Distribution registry (github.com/distribution/
// distribution/v3, the version Flux v2.9.5's own tests push artifacts to) on 127.0.0.1, so
// `flux push artifact`, `tag` and `pull` run against a real OCI registry:
//
//	oci-registry STORAGE_DIR
//
// It listens on a free loopback port, prints "127.0.0.1:PORT" on stdout once it accepts
// connections, and stores blobs and manifests under STORAGE_DIR (the filesystem driver).
// Plain HTTP, no authentication: the address is loopback only. It runs until killed.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"github.com/sirupsen/logrus"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: oci-registry STORAGE_DIR")
		os.Exit(2)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	config := &configuration.Configuration{}
	config.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": os.Args[1]},
		// deleting is off by default; `flux tag` only adds a tag
	}
	config.HTTP.Addr = listener.Addr().String()
	logrus.SetOutput(os.Stderr)
	logrus.SetLevel(logrus.WarnLevel)
	app := handlers.NewApp(context.Background(), config)
	fmt.Println(listener.Addr().String())
	if err := http.Serve(listener, app); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
