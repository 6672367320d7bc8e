// Package storetest runs microcert's table on the local DynamoDB stand-in
// (github.com/truora/minidyn, in process, over HTTP) for tests that talk to
// it with the real SDK client. The table is built from template.yaml's
// AWS::DynamoDB::Table resource (one source of truth), and Counter counts
// what each test reads.
package storetest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"
	"gopkg.in/yaml.v3"
)

// TableName is the name of the test table.
const TableName = "microcert-test"

// Env is one stand-in server with the table created.
type Env struct {
	Client *dynamodb.Client
	Table  string
	// Server gives access to minidyn's failure injection
	// (EmulateFailure, EmulateFailureForTable).
	Server *server.Server
	URL    string
	// Source tells where the table definition came from: the template's
	// path, or "fallback" (see FallbackTableInput).
	Source string
}

// NewTable starts a fresh stand-in for the test and returns a client and the
// name of the created table. opts apply to the client (e.g. a Counter's
// Option). The server stops when the test ends.
func NewTable(t testing.TB, opts ...func(*dynamodb.Options)) (*dynamodb.Client, string) {
	t.Helper()
	e := Start(t, opts...)
	return e.Client, e.Table
}

// Start is NewTable returning the whole Env.
func Start(t testing.TB, opts ...func(*dynamodb.Options)) *Env {
	t.Helper()
	srv := server.NewServer()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := NewClient(hs.URL, opts...)
	in, source, err := TableInput(TableName)
	if err != nil {
		t.Fatalf("storetest: table definition: %v", err)
	}
	if source == "fallback" {
		t.Logf("storetest: template.yaml has no AWS::DynamoDB::Table; using the fallback definition")
	}
	if _, err := client.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("storetest: create table: %v", err)
	}
	return &Env{Client: client, Table: TableName, Server: srv, URL: hs.URL, Source: source}
}

// NewClient returns an SDK client for a stand-in at url: dummy static
// credentials, us-east-1, no response checksum validation (minidyn sends no
// CRC32 header).
func NewClient(url string, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(url),
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
	}, opts...)
}

// TableInput is the CreateTable request of the table: from the repository's
// template.yaml when it defines an AWS::DynamoDB::Table (source = its path),
// else FallbackTableInput (source = "fallback").
func TableInput(name string) (*dynamodb.CreateTableInput, string, error) {
	path, err := templatePath()
	if err != nil {
		return nil, "", err
	}
	if path == "" {
		return FallbackTableInput(name), "fallback", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	in, ok, err := ParseTemplate(b, name)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	if !ok {
		return FallbackTableInput(name), "fallback", nil
	}
	return in, path, nil
}

// templatePath finds template.yaml next to the module's go.mod, walking up
// from the working directory ("" if there is none).
func templatePath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "template.yaml")
			if _, err := os.Stat(p); err != nil {
				return "", nil
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// ParseTemplate reads the AWS::DynamoDB::Table resource of a CloudFormation
// / SAM template (the one named "Table" if there are several) into a
// CreateTable request for name. It walks yaml.Nodes so that intrinsic tags
// (!Sub, !Ref, ...) elsewhere do not matter. ok is false when the template
// has no table.
func ParseTemplate(b []byte, name string) (in *dynamodb.CreateTableInput, ok bool, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, false, err
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	resources := get(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, false, nil
	}
	var props *yaml.Node
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, resources.Content[i+1]
		if scalar(get(res, "Type")) != "AWS::DynamoDB::Table" {
			continue
		}
		if props == nil || id == "Table" {
			props = get(res, "Properties")
		}
	}
	if props == nil {
		return nil, false, nil
	}
	in = &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	if bm := scalar(get(props, "BillingMode")); bm != "" {
		in.BillingMode = types.BillingMode(bm)
	}
	for _, n := range seq(get(props, "AttributeDefinitions")) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(scalar(get(n, "AttributeName"))),
			AttributeType: types.ScalarAttributeType(scalar(get(n, "AttributeType"))),
		})
	}
	in.KeySchema = keySchema(get(props, "KeySchema"))
	for _, n := range seq(get(props, "GlobalSecondaryIndexes")) {
		g := types.GlobalSecondaryIndex{
			IndexName: aws.String(scalar(get(n, "IndexName"))),
			KeySchema: keySchema(get(n, "KeySchema")),
		}
		if p := get(n, "Projection"); p != nil {
			g.Projection = &types.Projection{ProjectionType: types.ProjectionType(scalar(get(p, "ProjectionType")))}
			for _, a := range seq(get(p, "NonKeyAttributes")) {
				g.Projection.NonKeyAttributes = append(g.Projection.NonKeyAttributes, scalar(a))
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g)
	}
	if len(in.KeySchema) == 0 || len(in.AttributeDefinitions) == 0 {
		return nil, false, fmt.Errorf("table resource without KeySchema or AttributeDefinitions")
	}
	return in, true, nil
}

func keySchema(n *yaml.Node) []types.KeySchemaElement {
	var ks []types.KeySchemaElement
	for _, e := range seq(n) {
		ks = append(ks, types.KeySchemaElement{
			AttributeName: aws.String(scalar(get(e, "AttributeName"))),
			KeyType:       types.KeyType(scalar(get(e, "KeyType"))),
		})
	}
	return ks
}

// get returns the value of key in mapping n (nil if absent).
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar is the text of a scalar node, whatever its tag ("" otherwise).
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// FallbackTableInput is the table as the store expects it, used when the
// template does not define one yet. TestTemplateMatchesFallback keeps the
// two identical.
func FallbackTableInput(name string) *dynamodb.CreateTableInput {
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	ks := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	gsi := func(name, hash, rng string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: ks(hash, rng),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}
	}
	phashGSI := func(band int) types.GlobalSecondaryIndex {
		g := gsi(fmt.Sprintf("PHashIndex%d", band), fmt.Sprintf("ph%d", band), "phsk")
		g.Projection = &types.Projection{ProjectionType: types.ProjectionTypeInclude,
			NonKeyAttributes: []string{"id", "caseId", "enterpriseId", "phash"}}
		return g
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			s("pk"), s("sk"), s("gsi1pk"), s("gsi1sk"), s("qpk"), s("qsk"),
			s("duepk"), s("duesk"), s("rpk"), s("rsk"), s("hpk"), s("hsk"),
			s("ph0"), s("ph1"), s("ph2"), s("ph3"), s("phsk"),
		},
		KeySchema: ks("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi("GSI1", "gsi1pk", "gsi1sk"),
			gsi("QueueIndex", "qpk", "qsk"),
			gsi("DueIndex", "duepk", "duesk"),
			gsi("RemindIndex", "rpk", "rsk"),
			gsi("HashIndex", "hpk", "hsk"),
			phashGSI(0), phashGSI(1), phashGSI(2), phashGSI(3),
		},
	}
}
