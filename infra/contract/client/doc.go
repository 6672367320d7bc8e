// Package client is a Go client of the microcert API generated from
// openapi.yaml with oapi-codegen (settings in ../oapi-codegen.yaml), the way
// an app team would generate one. The end-to-end tests drive the applicant
// flow through it, and compat_test.go proves it decodes what a later minor
// version may send (members and enum values it does not know).
//
// client.gen.go is generated: never edit it. After changing openapi.yaml,
// run `make client` (go generate); TestClientUpToDate fails until then.
package client

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config ../oapi-codegen.yaml ../../../openapi.yaml
