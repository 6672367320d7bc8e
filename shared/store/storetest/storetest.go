// Package storetest runs microcert's table on the local DynamoDB stand-in
// (github.com/truora/minidyn, in process, over HTTP) for tests that talk to
// it with the real SDK client. The table is the one template.yaml deploys,
// read by infra/template (the one reader of the template), and Counter
// counts what each test reads.
package storetest

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"microcert/infra/template"
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
	table, err := Table()
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	// The server is fresh, so a table that already exists was made by this
	// very call: its first attempt was applied but its answer was lost
	// (a loaded machine), and the SDK's retry found the table.
	var inUse *types.ResourceInUseException
	if _, err := client.CreateTable(context.Background(), table.CreateTableInput(TableName)); err != nil && !errors.As(err, &inUse) {
		t.Fatalf("storetest: create table: %v", err)
	}
	return &Env{Client: client, Table: TableName, Server: srv, URL: hs.URL}
}

var (
	tableOnce sync.Once
	table     template.Table
	tableErr  error
)

// Table is the table as template.yaml defines it (read once per test binary).
func Table() (template.Table, error) {
	tableOnce.Do(func() {
		root, err := template.RepoRoot()
		if err != nil {
			tableErr = err
			return
		}
		tpl, err := template.LoadRepo(root)
		if err != nil {
			tableErr = err
			return
		}
		table = tpl.Table
	})
	return table, tableErr
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
