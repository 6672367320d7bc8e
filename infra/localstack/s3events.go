package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/infra/localstack/s3hook"
	"microcert/infra/template"
)

// Delivery is one S3 event delivered (or being delivered) to a function.
type Delivery struct {
	Function string
	Event    json.RawMessage // the AWS S3 event JSON the function received
	Key      string          // decoded object key
	Attempts int
	Err      error // last attempt's error; nil once delivered
	Done     bool  // delivered, or given up (then in the dead-letter folder)
	DLQFile  string

	id       string    // names its file in the pending folder
	received time.Time // when the event first arrived (the maximum age counts from here)
}

// notification is one S3 event source of a function.
type notification struct {
	function string
	ev       template.S3Event
	retries  int
	maxAge   time.Duration
}

// s3Events receives versitygw's webhook and delivers the events like Lambda's
// asynchronous invoke: it answers the webhook at once (versitygw gives one
// try with a 3 s timeout), then invokes, retries twice on a function error,
// and writes what still fails to the dead-letter folder.
//
// Nothing acknowledged is lost when the stack stops or is killed; its state
// folder (<state>/s3events) holds:
//   - pending/<id>.json: each delivery not finished yet (the event, the
//     attempts made, when it arrived), written before the delivery starts and
//     removed once the function took it or it was dead-lettered. The next
//     start resumes them, retries counted.
//   - announced.jsonl: every object whose creation was announced (bucket,
//     key, eTag, when). versitygw sends an event after it answered the upload
//     and once only, so an event still on its way (or in the queue) when the
//     stack dies never comes; at start every object under a notified prefix
//     that is not announced gets its event then.
//
// Delivery is at least once (as in AWS): a stack killed between a delivery and
// the removal of its pending file delivers it again.
type s3Events struct {
	notifications []notification
	invoke        func(ctx context.Context, fn, requestID string, payload []byte) ([]byte, error)
	s3            *s3.Client
	dlqDir        string
	pendingDir    string
	announcedLog  string
	backoff       []time.Duration
	seqBase       uint64
	logger        *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queue  chan []byte

	mu         sync.Mutex
	deliveries []*Delivery
	changed    chan struct{} // closed and replaced on every change
	announced  map[string]announcement
	annFile    *os.File
	baseline   bool // no announcements were kept yet: take the bucket as it is
}

// announcement is one line of announced.jsonl.
type announcement struct {
	Bucket string    `json:"bucket"`
	Key    string    `json:"key"`
	ETag   string    `json:"eTag"`
	At     time.Time `json:"at"`
}

// pendingDelivery is a file of the pending folder.
type pendingDelivery struct {
	Function string          `json:"function"`
	Event    json.RawMessage `json:"event"`
	Key      string          `json:"key"`
	Attempts int             `json:"attempts"`
	Received time.Time       `json:"received"`
}

// newS3Events reads the state under stateDir (created if need be).
func newS3Events(t *template.Template, stateDir, dlqDir string, backoff []time.Duration, logger *slog.Logger) (*s3Events, error) {
	e := &s3Events{
		dlqDir:       dlqDir,
		pendingDir:   filepath.Join(stateDir, "pending"),
		announcedLog: filepath.Join(stateDir, "announced.jsonl"),
		backoff:      backoff,
		logger:       logger,
		seqBase:      uint64(time.Now().UnixMilli()) << 20,
		queue:        make(chan []byte, 1024),
		changed:      make(chan struct{}),
		announced:    map[string]announcement{},
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	for _, f := range t.Functions {
		for _, ev := range f.S3Events {
			n := notification{function: f.LogicalID, ev: ev, retries: 2, maxAge: 6 * time.Hour}
			if f.MaximumRetryAttempts != nil {
				n.retries = *f.MaximumRetryAttempts
			}
			if f.MaximumEventAgeInSeconds != nil {
				n.maxAge = time.Duration(*f.MaximumEventAgeInSeconds) * time.Second
			}
			e.notifications = append(e.notifications, n)
		}
	}
	if err := os.MkdirAll(e.pendingDir, 0o755); err != nil {
		return nil, err
	}
	if err := e.loadAnnounced(); err != nil {
		return nil, err
	}
	return e, nil
}

// loadAnnounced reads announced.jsonl, keeps the latest line per object, and
// rewrites it so (compacted) before appending to it.
func (e *s3Events) loadAnnounced() error {
	b, err := os.ReadFile(e.announcedLog)
	switch {
	case errors.Is(err, os.ErrNotExist):
		e.baseline = true
	case err != nil:
		return err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var a announcement
		if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &a) != nil {
			continue // the torn last line of a killed stack: its event is announced again
		}
		e.announced[a.Bucket+"/"+a.Key] = a
	}
	keys := make([]string, 0, len(e.announced))
	for k := range e.announced {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	for _, k := range keys {
		line, _ := json.Marshal(e.announced[k])
		buf.Write(append(line, '\n'))
	}
	if err := writeFileDurably(e.announcedLog, buf.Bytes()); err != nil {
		return err
	}
	e.annFile, err = os.OpenFile(e.announcedLog, os.O_WRONLY|os.O_APPEND, 0o644)
	return err
}

// ServeHTTP is the webhook: queue and answer at once.
func (e *s3Events) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	select {
	case e.queue <- body:
	default:
		e.logger.Error("s3 event queue full: event dropped")
	}
	w.WriteHeader(http.StatusOK)
}

// run resumes the pending deliveries, announces the objects whose events
// were lost, then serves the webhook's queue.
func (e *s3Events) run() {
	e.resume()
	e.wg.Go(func() {
		if err := e.announceMissed(); err != nil {
			e.logger.Error("s3 events: objects without an event not announced", "err", err)
		}
		for {
			select {
			case <-e.ctx.Done():
				return
			case body := <-e.queue:
				e.handle(body)
			}
		}
	})
}

// stop ends the deliveries; what is unfinished stays pending for the next start.
func (e *s3Events) stop() {
	e.cancel()
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.annFile != nil {
		_ = e.annFile.Close()
		e.annFile = nil
	}
}

// resume starts the deliveries a previous run left pending.
func (e *s3Events) resume() {
	entries, err := os.ReadDir(e.pendingDir)
	if err != nil {
		e.logger.Error("s3 events: pending deliveries unreadable", "err", err)
		return
	}
	for _, ent := range entries {
		id, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok {
			continue
		}
		path := filepath.Join(e.pendingDir, ent.Name())
		b, err := os.ReadFile(path)
		var p pendingDelivery
		if err == nil {
			err = json.Unmarshal(b, &p)
		}
		if err != nil {
			// Written durably before its delivery began, so only a crash
			// while it was being replaced leaves it unreadable; the object
			// is announced again instead (see announceMissed).
			e.logger.Error("s3 events: pending delivery unreadable", "file", path, "err", err)
			_ = os.Remove(path)
			continue
		}
		n, ok := e.notification(p.Function)
		if !ok {
			e.logger.Warn("s3 events: pending delivery to a function no longer notified", "function", p.Function, "file", path)
			continue
		}
		d := &Delivery{Function: p.Function, Event: p.Event, Key: p.Key, Attempts: p.Attempts, id: id, received: p.Received}
		e.add(d)
		e.logger.Info("s3 event delivery resumed", "function", p.Function, "key", p.Key, "attempts", p.Attempts)
		e.wg.Go(func() { e.deliver(n, d) })
	}
}

func (e *s3Events) notification(function string) (notification, bool) {
	for _, n := range e.notifications {
		if n.function == function {
			return n, true
		}
	}
	return notification{}, false
}

// announceMissed gives every object under a notified prefix that was never
// announced its ObjectCreated event. On a state without announcements (its
// first start) the objects already there are taken as announced.
func (e *s3Events) announceMissed() error {
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Minute)
	defer cancel()
	for _, n := range e.notifications {
		p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: aws.String(n.ev.Bucket), Prefix: aws.String(n.ev.Prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				key, eTag := aws.ToString(o.Key), strings.Trim(aws.ToString(o.ETag), `"`)
				if e.wasAnnounced(n.ev.Bucket, key, eTag, aws.ToTime(o.LastModified)) {
					continue
				}
				if e.baseline {
					e.markAnnounced(n.ev.Bucket, key, eTag)
					continue
				}
				e.logger.Info("s3 event announced at start (its event was lost)", "bucket", n.ev.Bucket, "key", key)
				e.handle(createdEvent(n.ev.Bucket, key, eTag, aws.ToInt64(o.Size), aws.ToTime(o.LastModified)))
			}
		}
	}
	return nil
}

// createdEvent is the webhook body versitygw would have sent for the object
// (sequencer 0: below anything versitygw sends in this run, above anything of
// an earlier run).
func createdEvent(bucket, key, eTag string, size int64, modified time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.2", "eventSource": "aws:s3", "awsRegion": Region,
		"eventTime":         modified.UTC().Format(time.RFC3339Nano),
		"eventName":         "s3:ObjectCreated:Put",
		"userIdentity":      map[string]string{"PrincipalId": AccessKeyID},
		"requestParameters": map[string]string{"sourceIPAddress": "127.0.0.1"},
		"s3": map[string]any{
			"s3SchemaVersion": "1.0", "configurationId": "webhook-global",
			"bucket": map[string]any{"name": bucket, "ownerIdentity": map[string]string{"PrincipalId": AccessKeyID}},
			"object": map[string]any{"key": key, "size": size, "eTag": eTag, "sequencer": "0"},
		},
	}}})
	return b
}

func (e *s3Events) handle(body []byte) {
	ev, err := s3hook.Normalize(body, s3hook.Options{SequencerBase: e.seqBase, Region: Region})
	if errors.Is(err, s3hook.ErrTestEvent) {
		return
	}
	if err != nil {
		e.logger.Error("s3 event not understood", "err", err, "body", string(body))
		return
	}
	for _, rec := range ev.Records {
		if rec.S3.Object.Key == "" && strings.HasPrefix(rec.EventName, "ObjectCreated:") {
			key, err := e.recoverKey(rec)
			if err != nil {
				e.logger.Error("s3 event without key: not recovered", "err", err, "eTag", rec.S3.Object.ETag)
				continue
			}
			rec.SetKey(key)
		}
		key := rec.DecodedKey()
		for _, n := range e.notifications {
			if !n.matches(rec, key) {
				continue
			}
			r := rec
			r.S3.ConfigurationID = n.function + n.ev.Name
			payload, _ := json.Marshal(s3hook.Event{Records: []s3hook.Record{r}})
			d := &Delivery{Function: n.function, Event: payload, Key: key, id: newRequestID(), received: time.Now()}
			// Pending before announced: a crash between the two delivers
			// twice, never not at all.
			if err := e.persist(d); err != nil {
				e.logger.Error("s3 event: pending delivery not written", "key", key, "err", err)
			}
			e.add(d)
			e.wg.Go(func() { e.deliver(n, d) })
		}
		if strings.HasPrefix(rec.EventName, "ObjectCreated:") {
			e.markAnnounced(rec.S3.Bucket.Name, key, rec.S3.Object.ETag)
		}
	}
}

// persist writes (or rewrites) the pending file of a delivery.
func (e *s3Events) persist(d *Delivery) error {
	e.mu.Lock()
	p := pendingDelivery{Function: d.Function, Event: d.Event, Key: d.Key, Attempts: d.Attempts, Received: d.received}
	e.mu.Unlock()
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return writeFileDurably(filepath.Join(e.pendingDir, d.id+".json"), b)
}

// finish removes the pending file of a delivery that is done.
func (e *s3Events) finish(d *Delivery) {
	if err := os.Remove(filepath.Join(e.pendingDir, d.id+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		e.logger.Error("s3 event: pending delivery not removed", "key", d.Key, "err", err)
	}
}

// matches applies the notification's filter like S3: bucket, event type
// (with "*" wildcards), key prefix and suffix.
func (n notification) matches(rec s3hook.Record, key string) bool {
	if rec.S3.Bucket.Name != n.ev.Bucket {
		return false
	}
	if !strings.HasPrefix(key, n.ev.Prefix) || !strings.HasSuffix(key, n.ev.Suffix) {
		return false
	}
	name := "s3:" + rec.EventName
	for _, want := range n.ev.Events {
		if want == name || (strings.HasSuffix(want, "*") && strings.HasPrefix(name, strings.TrimSuffix(want, "*"))) {
			return true
		}
	}
	return false
}

// recoverKey finds the object of a presigned POST upload, whose event comes
// without a key: the newest object under the notifications' prefixes with the
// event's eTag and size that has not been announced since it was written.
func (e *s3Events) recoverKey(rec s3hook.Record) (string, error) {
	prefixes := map[string]bool{}
	for _, n := range e.notifications {
		if n.ev.Bucket == rec.S3.Bucket.Name {
			prefixes[n.ev.Prefix] = true
		}
	}
	if len(prefixes) == 0 {
		return "", errors.New("no notification on this bucket")
	}
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	var (
		bestKey  string
		bestTime time.Time
	)
	for prefix := range prefixes {
		p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: aws.String(rec.S3.Bucket.Name), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return "", err
			}
			for _, o := range page.Contents {
				if strings.Trim(aws.ToString(o.ETag), `"`) != rec.S3.Object.ETag || aws.ToInt64(o.Size) != rec.S3.Object.Size {
					continue
				}
				key, mod := aws.ToString(o.Key), aws.ToTime(o.LastModified)
				if e.wasAnnounced(rec.S3.Bucket.Name, key, rec.S3.Object.ETag, mod) {
					continue
				}
				if bestKey == "" || mod.After(bestTime) {
					bestKey, bestTime = key, mod
				}
			}
		}
	}
	if bestKey == "" {
		return "", errors.New("no unannounced object with that eTag and size")
	}
	return bestKey, nil
}

// markAnnounced records (durably) that the object's creation was announced.
func (e *s3Events) markAnnounced(bucket, key, eTag string) {
	a := announcement{Bucket: bucket, Key: key, ETag: eTag, At: time.Now()}
	line, _ := json.Marshal(a)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.announced[bucket+"/"+key] = a
	if e.annFile == nil {
		return
	}
	_, err := e.annFile.Write(append(line, '\n'))
	if err == nil {
		err = e.annFile.Sync()
	}
	if err != nil {
		e.logger.Error("s3 event: announcement not kept", "key", key, "err", err)
	}
}

// wasAnnounced: an event was seen for this content of the key after (or in
// the same second as, listings having second precision) it was last written.
func (e *s3Events) wasAnnounced(bucket, key, eTag string, modified time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.announced[bucket+"/"+key]
	return ok && a.ETag == eTag && !a.At.Before(modified.Truncate(time.Second))
}

func (e *s3Events) add(d *Delivery) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deliveries = append(e.deliveries, d)
	e.notifyLocked()
}

func (e *s3Events) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *s3Events) update(d *Delivery, fn func(*Delivery)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(d)
	e.notifyLocked()
}

// snapshot returns copies of the deliveries to fn ("" = all) and a channel
// that closes on the next change.
func (e *s3Events) snapshot(fn string) ([]Delivery, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Delivery
	for _, d := range e.deliveries {
		if fn == "" || d.Function == fn {
			out = append(out, *d)
		}
	}
	return out, e.changed
}

// deliver invokes the function: the event, then n.retries retries after a
// function error, within the maximum event age; then the dead-letter folder.
// A resumed delivery goes on from the attempts it had made.
func (e *s3Events) deliver(n notification, d *Delivery) {
	var (
		out []byte
		err error
	)
	e.mu.Lock()
	start := d.Attempts
	e.mu.Unlock()
	for attempt := start; attempt <= n.retries; attempt++ {
		if attempt > 0 {
			wait := e.backoff[min(attempt-1, len(e.backoff)-1)]
			if time.Since(d.received)+wait > n.maxAge {
				break
			}
			select {
			case <-e.ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		ctx, cancel := context.WithTimeout(e.ctx, 15*time.Minute)
		out, err = e.invoke(ctx, n.function, newRequestID(), d.Event)
		cancel()
		if e.ctx.Err() != nil {
			// Stopped mid-invoke: this attempt does not count, the next start retries it.
			return
		}
		e.update(d, func(d *Delivery) { d.Attempts++; d.Err = err })
		if err == nil {
			e.finish(d)
			e.update(d, func(d *Delivery) { d.Done = true })
			return
		}
		if perr := e.persist(d); perr != nil {
			e.logger.Error("s3 event: pending delivery not updated", "key", d.Key, "err", perr)
		}
		e.logger.Warn("s3 event delivery failed", "function", n.function, "key", d.Key, "attempt", attempt+1, "err", err)
	}
	if err == nil && out == nil {
		// Resumed with no attempt left (killed after the last failure was
		// recorded): the last error is gone with the process.
		err = errors.New("retries exhausted before a restart")
	}
	file, werr := e.deadLetter(n.function, d, out, err)
	if werr != nil {
		e.logger.Error("dead letter not written", "function", n.function, "err", werr)
		return // still pending: the next start dead-letters it
	}
	e.finish(d)
	e.update(d, func(d *Delivery) { d.Done = true; d.DLQFile = file })
}

// deadLetter writes the record Lambda sends to an on-failure destination.
func (e *s3Events) deadLetter(fn string, d *Delivery, out []byte, cause error) (string, error) {
	if err := os.MkdirAll(filepath.Join(e.dlqDir, fn), 0o755); err != nil {
		return "", err
	}
	reqID := newRequestID()
	resp := json.RawMessage(out)
	if !json.Valid(out) {
		resp, _ = json.Marshal(map[string]string{"errorMessage": fmt.Sprint(cause)})
	}
	rec := map[string]any{
		"version":   "1.0",
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"requestContext": map[string]any{
			"requestId":              reqID,
			"functionArn":            fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s:$LATEST", Region, AccountID, fn),
			"condition":              "RetriesExhausted",
			"approximateInvokeCount": d.Attempts,
		},
		"requestPayload": d.Event,
		"responseContext": map[string]any{
			"statusCode":      200,
			"executedVersion": "$LATEST",
			"functionError":   "Unhandled",
		},
		"responsePayload": resp,
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(e.dlqDir, fn, time.Now().UTC().Format("20060102T150405.000")+"-"+reqID+".json")
	return path, writeFileDurably(path, b)
}
