// Command flux-controller-build builds a directory exactly as Flux's kustomize-controller
// v1.9.5 builds the artifact of a Kustomization, with the same library at the same version
// (github.com/fluxcd/pkg/kustomize, pinned in go.mod as the controller pins it):
//
//	flux-controller-build ARTIFACT_DIR KUSTOMIZATION_FILE
//
// KUSTOMIZATION_FILE holds a kustomize.toolkit.fluxcd.io/v1 Kustomization (other documents in
// the file are skipped). The steps are the controller's reconcile, after the fetch:
//
//  1. copy the artifact into a fresh temporary directory (the controller untars it there);
//  2. dirPath = securejoin(tmp, spec.path);
//  3. NewGenerator(tmp, kustomization).WriteFile(dirPath): write or amend kustomization.yaml
//     with the Kustomization's targetNamespace, namePrefix, patches, images, components...;
//  4. SecureBuild(tmp, dirPath, true): kustomize with builtin plugins only, load
//     restrictions off;
//  5. every resource must have apiVersion, kind and name; then AsYaml and ReadObjects, the
//     objects the controller goes on to apply.
//
// The objects are printed as a YAML stream on stdout. A failed step prints the controller's
// error text on stderr and exits 1. Decryption and postBuild substitution need a cluster
// (Secrets, ConfigMaps): a Kustomization that asks for them is refused, not built half-way.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	generator "github.com/fluxcd/pkg/kustomize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: flux-controller-build ARTIFACT_DIR KUSTOMIZATION_FILE")
		os.Exit(2)
	}
	out, err := build(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

func build(artifactDir, kustomizationFile string) ([]byte, error) {
	obj, err := readKustomization(kustomizationFile)
	if err != nil {
		return nil, err
	}
	if obj.Spec.Decryption != nil || obj.Spec.PostBuild != nil {
		return nil, fmt.Errorf("%s: decryption and postBuild need a cluster; this build does not do them", kustomizationFile)
	}
	tmpDir, err := os.MkdirTemp("", "kustomization-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmpDir)
	if err := os.CopyFS(tmpDir, os.DirFS(artifactDir)); err != nil {
		return nil, fmt.Errorf("copying the artifact: %w", err)
	}
	dirPath, err := securejoin.SecureJoin(tmpDir, obj.Spec.Path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dirPath); err != nil {
		return nil, fmt.Errorf("kustomization path not found: %w", err)
	}
	k, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	if _, err := generator.NewGenerator(tmpDir, unstructured.Unstructured{Object: k}).WriteFile(dirPath); err != nil {
		return nil, err
	}
	m, err := generator.SecureBuild(tmpDir, dirPath, true)
	if err != nil {
		return nil, fmt.Errorf("kustomize build failed: %w", err)
	}
	for _, res := range m.Resources() {
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			return nil, fmt.Errorf("failed to decode Kubernetes apiVersion, kind and name from: %v", res.String())
		}
	}
	resources, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build failed: %w", err)
	}
	objects, err := ssautil.ReadObjects(bytes.NewReader(resources))
	if err != nil {
		return nil, err
	}
	var stream bytes.Buffer
	for _, object := range objects {
		doc, err := yaml.Marshal(object.Object)
		if err != nil {
			return nil, err
		}
		stream.WriteString("---\n")
		stream.Write(doc)
	}
	return stream.Bytes(), nil
}

// readKustomization decodes the Kustomization strictly, as the API server would refuse
// unknown fields.
func readKustomization(path string) (*kustomizev1.Kustomization, error) {
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return nil, err
	}
	objects, err := ssautil.ReadObjects(bytes.NewReader(data))
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, object := range objects {
		if object.GetKind() != kustomizev1.KustomizationKind ||
			object.GetAPIVersion() != kustomizev1.GroupVersion.String() {
			continue
		}
		doc, err := yaml.Marshal(object.Object)
		if err != nil {
			return nil, err
		}
		var obj kustomizev1.Kustomization
		if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &obj, nil
	}
	return nil, fmt.Errorf("%s: no %s Kustomization", path, kustomizev1.GroupVersion)
}
