package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/truora/minidyn/server"

	"microcert/infra/template"
)

// dynamo is minidyn served over HTTP on its own port. minidyn keeps nothing on
// disk, so the table is written to a snapshot file on Close and read back at
// start: data and uploaded files (versitygw keeps those) survive a restart together.
type dynamo struct {
	srv   *http.Server
	url   string
	table template.Table
}

func startDynamo(ctx context.Context, addr string, tb template.Table) (*dynamo, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: %w", err)
	}
	d := &dynamo{
		srv:   &http.Server{Handler: server.NewServer()},
		url:   "http://" + l.Addr().String(),
		table: tb,
	}
	go func() { _ = d.srv.Serve(l) }()
	if err := d.createTable(ctx); err != nil {
		d.srv.Close()
		return nil, err
	}
	return d, nil
}

// call sends one DynamoDB JSON API request. The snapshot works on DynamoDB's
// own JSON (the wire format), which needs no conversion either way.
func (d *dynamo) call(ctx context.Context, op string, in any, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("dynamodb %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dynamodb %s: %s: %s", op, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// createTable creates the table exactly as the template defines it. TTL is
// left out: minidyn has no UpdateTimeToLive, so expired items stay locally.
func (d *dynamo) createTable(ctx context.Context) error {
	_, err := dynamoClient(d.url).CreateTable(ctx, d.table.CreateTableInput(d.table.Name))
	if err != nil {
		return fmt.Errorf("dynamodb CreateTable: %w", err)
	}
	return nil
}

// dynamoClient is an SDK client of the local DynamoDB at url.
func dynamoClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		// minidyn sends no CRC32 of its responses.
		DisableValidateResponseChecksum: true,
	})
}

type snapshotFile struct {
	Table string            `json:"table"`
	Items []json.RawMessage `json:"items"`
}

// save writes every item of the table to path (atomically).
func (d *dynamo) save(ctx context.Context, path string) (int, error) {
	snap := snapshotFile{Table: d.table.Name, Items: []json.RawMessage{}}
	var start json.RawMessage
	for {
		in := map[string]any{"TableName": d.table.Name, "Limit": 1000}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		var out struct {
			Items            []json.RawMessage `json:"Items"`
			LastEvaluatedKey json.RawMessage   `json:"LastEvaluatedKey"`
		}
		if err := d.call(ctx, "Scan", in, &out); err != nil {
			return 0, err
		}
		snap.Items = append(snap.Items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 || string(out.LastEvaluatedKey) == "null" || string(out.LastEvaluatedKey) == "{}" {
			break
		}
		start = out.LastEvaluatedKey
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return 0, err
	}
	return len(snap.Items), os.Rename(tmp, path)
}

// load puts the items of a snapshot back; a missing file is an empty table.
func (d *dynamo) load(ctx context.Context, path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var snap snapshotFile
	if err := json.Unmarshal(b, &snap); err != nil {
		return 0, fmt.Errorf("dynamodb snapshot %s: %w", path, err)
	}
	for i := 0; i < len(snap.Items); i += 25 {
		batch := snap.Items[i:min(i+25, len(snap.Items))]
		reqs := make([]map[string]any, 0, len(batch))
		for _, it := range batch {
			reqs = append(reqs, map[string]any{"PutRequest": map[string]any{"Item": it}})
		}
		in := map[string]any{"RequestItems": map[string]any{d.table.Name: reqs}}
		var out struct {
			UnprocessedItems map[string][]json.RawMessage `json:"UnprocessedItems"`
		}
		if err := d.call(ctx, "BatchWriteItem", in, &out); err != nil {
			return i, err
		}
		if n := len(out.UnprocessedItems[d.table.Name]); n > 0 {
			return i, fmt.Errorf("dynamodb snapshot: %d items unprocessed", n)
		}
	}
	return len(snap.Items), nil
}

func (d *dynamo) close() error { return d.srv.Close() }
