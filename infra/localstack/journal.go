package localstack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// journal makes minidyn (memory only) durable: every write request that
// succeeds is followed by one line in a write-ahead log holding the
// after-image of each item it touched, written and fsynced before the
// response leaves. A write the caller saw succeed therefore survives a
// SIGKILL of the stack; a write that was not acknowledged may or may not be
// there, as with DynamoDB.
//
// After-images, not requests: replaying them is idempotent and needs no
// condition to hold again, so a journal replayed twice (a crash between the
// snapshot that absorbs it and its truncation) changes nothing.
//
// Requests are serialized around the journal: writes one at a time (the
// journal's order is the table's order), reads never while a write is between
// minidyn and the disk, so nobody reads what could still be lost.
type journal struct {
	inner    http.Handler
	table    string
	keyAttrs []string // hash, then range key
	sync     bool     // fsync each record (off only to measure what it costs)

	mu   sync.RWMutex
	file *os.File
}

// journalRecord is one line: the items one write request left behind.
type journalRecord struct {
	Items []journalItem `json:"items"`
}

// journalItem is an item's key and its image after the write (nil: deleted).
type journalItem struct {
	Key   map[string]json.RawMessage `json:"key"`
	Image map[string]json.RawMessage `json:"image,omitempty"`
}

// writeOps are the DynamoDB operations that change items.
var writeOps = map[string]bool{
	"PutItem": true, "UpdateItem": true, "DeleteItem": true,
	"BatchWriteItem": true, "TransactWriteItems": true,
}

const dynamoTarget = "DynamoDB_20120810."

func (j *journal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), dynamoTarget)
	if !writeOps[op] {
		j.mu.RLock()
		defer j.mu.RUnlock()
		j.inner.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	j.mu.Lock()
	defer j.mu.Unlock()
	rec := httptest.NewRecorder()
	j.inner.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK && j.file != nil {
		if err := j.append(op, body); err != nil {
			// The write is in memory but not on disk: the caller must not
			// take it as done. A retry rewrites the same item.
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":%q}`, "local journal: "+err.Error())
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// append writes the after-images of the items the request touched.
func (j *journal) append(op string, body []byte) error {
	keys, err := j.touchedKeys(op, body)
	if err != nil {
		return err
	}
	var rec journalRecord
	for _, k := range keys {
		img, err := j.get(k)
		if err != nil {
			return err
		}
		rec.Items = append(rec.Items, journalItem{Key: k, Image: img})
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := j.file.Write(append(line, '\n')); err != nil {
		return err
	}
	if j.sync {
		return j.file.Sync()
	}
	return nil
}

// txWrite is one write of a TransactWriteItems (a ConditionCheck writes nothing).
type txWrite struct {
	TableName string                     `json:"TableName"`
	Item      map[string]json.RawMessage `json:"Item"`
	Key       map[string]json.RawMessage `json:"Key"`
}

// touchedKeys lists the keys of the items a write request names.
func (j *journal) touchedKeys(op string, body []byte) ([]map[string]json.RawMessage, error) {
	var in struct {
		txWrite
		RequestItems map[string][]struct {
			PutRequest    *txWrite `json:"PutRequest"`
			DeleteRequest *txWrite `json:"DeleteRequest"`
		} `json:"RequestItems"`
		TransactItems []struct {
			Put    *txWrite `json:"Put"`
			Update *txWrite `json:"Update"`
			Delete *txWrite `json:"Delete"`
		} `json:"TransactItems"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var keys []map[string]json.RawMessage
	add := func(table string, key map[string]json.RawMessage) {
		if table == j.table && key != nil {
			keys = append(keys, j.keyOf(key))
		}
	}
	switch op {
	case "PutItem":
		add(in.TableName, in.Item)
	case "UpdateItem", "DeleteItem":
		add(in.TableName, in.Key)
	case "BatchWriteItem":
		for table, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					add(table, r.PutRequest.Item)
				}
				if r.DeleteRequest != nil {
					add(table, r.DeleteRequest.Key)
				}
			}
		}
	case "TransactWriteItems":
		for _, ti := range in.TransactItems {
			if ti.Put != nil {
				add(ti.Put.TableName, ti.Put.Item)
			}
			if ti.Update != nil {
				add(ti.Update.TableName, ti.Update.Key)
			}
			if ti.Delete != nil {
				add(ti.Delete.TableName, ti.Delete.Key)
			}
		}
	}
	return keys, nil
}

// keyOf keeps the key attributes of an item.
func (j *journal) keyOf(item map[string]json.RawMessage) map[string]json.RawMessage {
	k := make(map[string]json.RawMessage, len(j.keyAttrs))
	for _, a := range j.keyAttrs {
		if v, ok := item[a]; ok {
			k[a] = v
		}
	}
	return k
}

// get reads an item straight from minidyn (the caller holds the lock).
func (j *journal) get(key map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	var out struct {
		Item map[string]json.RawMessage `json:"Item"`
	}
	err := j.call("GetItem", map[string]any{"TableName": j.table, "Key": key, "ConsistentRead": true}, &out)
	return out.Item, err
}

// call sends one request to minidyn, past the journal.
func (j *journal) call(op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", dynamoTarget+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := httptest.NewRecorder()
	j.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("dynamodb %s: %d: %s", op, rec.Code, rec.Body.Bytes())
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// replay applies the journal at path to minidyn and returns the number of
// records applied. A last line cut short (the process died while writing
// it, so its write was never acknowledged) is ignored; damage anywhere else
// is an error.
func (j *journal) replay(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var (
		n       int
		pending error // a bad line, fatal unless it is the last
	)
	for sc.Scan() {
		if pending != nil {
			return n, pending
		}
		var rec journalRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			pending = fmt.Errorf("dynamodb journal %s: record %d: %w", path, n+1, err)
			continue
		}
		for _, it := range rec.Items {
			if it.Image != nil {
				err = j.call("PutItem", map[string]any{"TableName": j.table, "Item": it.Image}, nil)
			} else {
				err = j.call("DeleteItem", map[string]any{"TableName": j.table, "Key": it.Key}, nil)
			}
			if err != nil {
				return n, fmt.Errorf("dynamodb journal %s: record %d: %w", path, n+1, err)
			}
		}
		n++
	}
	return n, sc.Err()
}

// open starts journaling to path, emptied (the caller has absorbed what it
// held into a snapshot). O_APPEND: after a truncation the next record starts
// at offset 0 again.
func (j *journal) open(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return err
	}
	j.mu.Lock()
	j.file = f
	j.mu.Unlock()
	return nil
}

// close stops journaling; writes after it are memory only.
func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.file == nil {
		return nil
	}
	err := j.file.Close()
	j.file = nil
	return err
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
