// Command argocd-harness is Argo CD v3.6.1's own repo-server and cmp-server, trimmed to what
// the GitOps tests run, plus the client the application controller would be.
//
// Like Argo CD's own multi-call binary it picks the command from the name it is called by
// (the tests link argocd-repo-server and argocd-cmp-server to it):
//
//	argocd-repo-server [--in-process-redis] FLAGS...   Argo CD's repo-server command, as is.
//	    --in-process-redis starts a Redis-protocol server (miniredis) on a free 127.0.0.1
//	    port in this process and passes it as --redis, so no Redis has to be installed.
//	argocd-cmp-server FLAGS...                          Argo CD's cmp-server command, as is.
//	argocd-harness generate-manifest ADDRESS            reads one ManifestRequest (JSON) on
//	    stdin, calls the repo-server's GenerateManifest at ADDRESS (plain gRPC, as with
//	    --disable-tls) through Argo CD's own repo-server client, prints the ManifestResponse
//	    (JSON) on stdout; a failed call prints the gRPC error on stderr and exits 1.
//	argocd-harness generate-applications APPLICATIONSET.yaml
//	    the Applications the ApplicationSet controller generates from it (JSON list on stdout),
//	    with its own template rendering; list generators only (the others need a cluster or
//	    an SCM provider).
//
// The source of the commands is Argo CD's module from the Go module proxy (go.mod); nothing
// here changes what they do.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	logrus "github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/argoproj/argo-cd/v3/applicationset/controllers/template"
	"github.com/argoproj/argo-cd/v3/applicationset/generators"
	"github.com/argoproj/argo-cd/v3/applicationset/utils"
	cmpserver "github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
	argoappv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/util/log"
	utiltls "github.com/argoproj/argo-cd/v3/util/tls"
)

func init() {
	// As Argo CD's main does: klog through Argo CD's configured logger.
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	// Argo CD's main calls grpc.DisableSRVLookups here: the gRPC-LB balancer, linked into the
	// full binary by other commands, turns SRV lookups on. This trimmed binary does not link it,
	// so the lookups are already off (and that call panics when it finds them off).
	var command *cobra.Command
	switch filepath.Base(os.Args[0]) {
	case common.CommandRepoServer:
		args, stop, err := withInProcessRedis(os.Args[1:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "argocd-harness:", err)
			os.Exit(1)
		}
		defer stop()
		command = reposerver.NewCommand()
		command.SetArgs(args)
	case common.CommandCMPServer:
		command = cmpserver.NewCommand()
		command.SilenceErrors = true
		command.SilenceUsage = true
	default:
		if len(os.Args) == 3 && os.Args[1] == "generate-manifest" {
			os.Exit(generateManifest(os.Args[2], os.Stdin, os.Stdout, os.Stderr))
		}
		if len(os.Args) == 3 && os.Args[1] == "generate-applications" {
			os.Exit(generateApplications(os.Args[2], os.Stdout, os.Stderr))
		}
		fmt.Fprintf(os.Stderr, "usage: call as %s or %s, or: %s generate-manifest ADDRESS < request.json"+
			", or: %s generate-applications APPLICATIONSET.yaml\n",
			common.CommandRepoServer, common.CommandCMPServer, os.Args[0], os.Args[0])
		os.Exit(2)
	}
	if err := command.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// withInProcessRedis removes --in-process-redis from args and, when it was there, starts
// miniredis on a free loopback port and adds --redis for it.
func withInProcessRedis(args []string) ([]string, func(), error) {
	rest := make([]string, 0, len(args)+2)
	wanted := false
	for _, arg := range args {
		if arg == "--in-process-redis" {
			wanted = true
			continue
		}
		rest = append(rest, arg)
	}
	if !wanted {
		return rest, func() {}, nil
	}
	server := miniredis.NewMiniRedis()
	if err := server.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("starting the in-process Redis: %w", err)
	}
	return append(rest, "--redis", server.Addr()), server.Close, nil
}

// generateManifest is the application controller's call, made with Argo CD's own client.
func generateManifest(address string, in io.Reader, out, errOut io.Writer) int {
	var request apiclient.ManifestRequest
	if err := json.NewDecoder(in).Decode(&request); err != nil {
		fmt.Fprintln(errOut, "reading the ManifestRequest:", err)
		return 2
	}
	// 60 s: the controller's default repo-server timeout
	clientset := apiclient.NewRepoServerClientset(address, 60, utiltls.Configuration{DisableTLS: true})
	conn, client, err := clientset.NewRepoServerClient()
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	response, err := client.GenerateManifest(ctx, &request)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	if err := json.NewEncoder(out).Encode(response); err != nil {
		fmt.Fprintln(errOut, "writing the ManifestResponse:", err)
		return 1
	}
	return 0
}

// generateApplications is the ApplicationSet controller's expansion of one ApplicationSet.
func generateApplications(path string, out, errOut io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 2
	}
	var appSet argoappv1.ApplicationSet
	if err := yaml.UnmarshalStrict(data, &appSet); err != nil {
		fmt.Fprintf(errOut, "%s: %v\n", path, err)
		return 2
	}
	for _, generator := range appSet.Spec.Generators {
		if generator.List == nil {
			fmt.Fprintf(errOut, "%s: only list generators can run without a cluster\n", path)
			return 2
		}
	}
	list := map[string]generators.Generator{"List": generators.NewListGenerator()}
	logCtx := logrus.NewEntry(logrus.StandardLogger())
	apps, _, err := template.GenerateApplications(logCtx, appSet, list, &utils.Render{}, nil)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	if err := json.NewEncoder(out).Encode(apps); err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	return 0
}
