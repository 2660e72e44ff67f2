// apiserver-check runs the Kubernetes API server's own CustomResourceDefinition code, without
// an API server: it validates a CRD as `kubectl apply` of it would be validated (structural
// schema, defaults that validate and survive pruning, patterns, ...), then puts custom
// resources through the API server's create path for that CRD: pruning of unknown fields
// (which strict field validation reports as errors), pruning of nulls, defaulting, and
// OpenAPI schema validation.
//
//	apiserver-check CRD.yaml < objects.json > report.json
//
// objects.json is a JSON array of objects; the report is
//
//	{"crd": [errors], "objects": [{"errors": [...], "unknownFields": [...], "defaulted": {...}}]}
//
// in the order of the input. Exit code 0 when the report could be written (read the report
// for findings), 1 when the input could not be read at all.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"sigs.k8s.io/yaml"
)

type objectReport struct {
	Errors        []string       `json:"errors"`
	UnknownFields []string       `json:"unknownFields"`
	Defaulted     map[string]any `json:"defaulted"`
}

type report struct {
	CRD     []string       `json:"crd"`
	Objects []objectReport `json:"objects"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "apiserver-check: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: apiserver-check CRD.yaml < objects.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var external apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(raw, &external); err != nil {
		return fmt.Errorf("%s is not a CustomResourceDefinition: %w", os.Args[1], err)
	}
	// what the API server does before validating a CRD it receives: defaults, then the
	// internal version (the validation works on that)
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(&external)
	var crd apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&external, &crd, nil); err != nil {
		return err
	}
	out := report{CRD: []string{}, Objects: []objectReport{}}
	for _, e := range crdvalidation.ValidateCustomResourceDefinition(context.Background(), &crd) {
		out.CRD = append(out.CRD, e.Error())
	}

	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	var objects []map[string]any
	if err := json.Unmarshal(input, &objects); err != nil {
		return fmt.Errorf("stdin is not a JSON array of objects: %w", err)
	}
	if len(objects) > 0 {
		// the internal version keeps the schema of a single-version CRD at spec.validation
		var props *apiextensions.JSONSchemaProps
		if crd.Spec.Validation != nil {
			props = crd.Spec.Validation.OpenAPIV3Schema
		} else if len(crd.Spec.Versions) == 1 && crd.Spec.Versions[0].Schema != nil {
			props = crd.Spec.Versions[0].Schema.OpenAPIV3Schema
		}
		if props == nil {
			return fmt.Errorf("expected one version with a schema")
		}
		structural, err := structuralschema.NewStructural(props)
		if err != nil {
			return fmt.Errorf("the schema is not structural: %w", err)
		}
		validator, _, err := validation.NewSchemaValidator(props)
		if err != nil {
			return err
		}
		for _, obj := range objects {
			out.Objects = append(out.Objects, check(obj, structural, validator))
		}
	}
	encoded, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(encoded, '\n'))
	return err
}

// check is the order of the API server's create path for a custom resource: prune (strict
// field validation reports what was pruned), drop nulls, default, validate.
func check(obj map[string]any, structural *structuralschema.Structural, validator validation.SchemaValidator) objectReport {
	result := objectReport{Errors: []string{}, UnknownFields: []string{}}
	result.UnknownFields = append(result.UnknownFields, structuralpruning.PruneWithOptions(obj, structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, structural)
	structuraldefaulting.Default(obj, structural)
	for _, e := range validation.ValidateCustomResource(nil, obj, validator) {
		result.Errors = append(result.Errors, e.Error())
	}
	result.Defaulted = obj
	return result
}
