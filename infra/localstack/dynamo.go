package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// disk, so the stack keeps the table in two files of the state folder: a
// snapshot (dynamodb.json) and a journal of every acknowledged write since it
// (dynamodb.wal, see journal). At start the snapshot is loaded and the journal
// replayed on top, then both are folded into a new snapshot; a clean stop
// does the same. A killed stack loses no acknowledged write, and data and
// uploaded files (versitygw keeps those) survive together.
type dynamo struct {
	srv      *http.Server
	url      string
	table    template.Table
	j        *journal
	snapshot string
	wal      string
}

func startDynamo(ctx context.Context, addr string, tb template.Table, stateDir string) (*dynamo, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: %w", err)
	}
	j := &journal{inner: server.NewServer(), table: tb.Name, keyAttrs: []string{tb.HashKey}, sync: true}
	if tb.RangeKey != "" {
		j.keyAttrs = append(j.keyAttrs, tb.RangeKey)
	}
	d := &dynamo{
		srv:      &http.Server{Handler: j},
		url:      "http://" + l.Addr().String(),
		table:    tb,
		j:        j,
		snapshot: filepath.Join(stateDir, "dynamodb.json"),
		wal:      filepath.Join(stateDir, "dynamodb.wal"),
	}
	go func() { _ = d.srv.Serve(l) }()
	if err := d.createTable(ctx); err != nil {
		d.srv.Close()
		return nil, err
	}
	return d, nil
}

// createTable creates the table exactly as the template defines it. TTL is
// left out: minidyn has no UpdateTimeToLive, so expired items stay locally.
func (d *dynamo) createTable(ctx context.Context) error {
	// Straight to the stand-in, past the journal: the table is not a write
	// to replay. The SDK input encodes as DynamoDB's JSON.
	return d.j.call("CreateTable", d.table.CreateTableInput(d.table.Name), nil)
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

// recover loads the snapshot, replays the journal on top, folds both into a
// new snapshot and starts journaling. It returns the items in the table and
// the journal records replayed.
func (d *dynamo) recover() (items, replayed int, err error) {
	if err := d.load(); err != nil {
		return 0, 0, err
	}
	if replayed, err = d.j.replay(d.wal); err != nil {
		return 0, replayed, err
	}
	if err := d.j.open(d.wal + ".new"); err != nil {
		return 0, replayed, err
	}
	// The new journal takes the old one's place only once the snapshot holds
	// what the old one held.
	d.j.mu.Lock()
	defer d.j.mu.Unlock()
	if items, err = d.saveLocked(); err != nil {
		return 0, replayed, err
	}
	if err := os.Rename(d.wal+".new", d.wal); err != nil {
		return items, replayed, err
	}
	return items, replayed, syncDir(filepath.Dir(d.wal))
}

// checkpoint writes the snapshot and empties the journal, holding off writes
// meanwhile: after it the snapshot alone holds the table. Writes after it
// are journaled again.
func (d *dynamo) checkpoint() (int, error) {
	d.j.mu.Lock()
	defer d.j.mu.Unlock()
	n, err := d.saveLocked()
	if err != nil {
		return n, err
	}
	if d.j.file != nil {
		if err := d.j.file.Truncate(0); err != nil {
			return n, err
		}
		if err := d.j.file.Sync(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// saveLocked writes every item of the table to the snapshot, atomically and
// durably (the caller holds the journal's lock).
func (d *dynamo) saveLocked() (int, error) {
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
		if err := d.j.call("Scan", in, &out); err != nil {
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
	if err := writeFileDurably(d.snapshot, b); err != nil {
		return 0, err
	}
	return len(snap.Items), nil
}

// writeFileDurably replaces path with data: a temporary file, synced, renamed
// over path, and the folder synced, so a crash leaves the old or the new file.
func writeFileDurably(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// load puts the items of the snapshot back; a missing file is an empty table.
func (d *dynamo) load() error {
	b, err := os.ReadFile(d.snapshot)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var snap snapshotFile
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("dynamodb snapshot %s: %w", d.snapshot, err)
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
		if err := d.j.call("BatchWriteItem", in, &out); err != nil {
			return err
		}
		if n := len(out.UnprocessedItems[d.table.Name]); n > 0 {
			return fmt.Errorf("dynamodb snapshot: %d items unprocessed", n)
		}
	}
	return nil
}

// reset empties the table: a fresh stand-in holding the table just
// created, an empty snapshot and an empty journal. Requests wait meanwhile,
// so none sees a table half gone.
func (d *dynamo) reset(ctx context.Context) error {
	d.j.mu.Lock()
	defer d.j.mu.Unlock()
	d.j.inner = server.NewServer()
	if err := d.createTable(ctx); err != nil {
		return err
	}
	if _, err := d.saveLocked(); err != nil {
		return err
	}
	if d.j.file == nil {
		return nil
	}
	if err := d.j.file.Truncate(0); err != nil {
		return err
	}
	return d.j.file.Sync()
}

func (d *dynamo) close() error {
	err := d.srv.Close()
	return errors.Join(err, d.j.close())
}
