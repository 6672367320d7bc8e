package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
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
type s3Events struct {
	notifications []notification
	invoke        func(ctx context.Context, fn, requestID string, payload []byte) ([]byte, error)
	s3            *s3.Client
	dlqDir        string
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
}

func newS3Events(t *template.Template, dlqDir string, backoff []time.Duration, logger *slog.Logger) *s3Events {
	e := &s3Events{
		dlqDir:    dlqDir,
		backoff:   backoff,
		logger:    logger,
		seqBase:   uint64(time.Now().UnixMilli()) << 20,
		queue:     make(chan []byte, 1024),
		changed:   make(chan struct{}),
		announced: map[string]announcement{},
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
	return e
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

func (e *s3Events) run() {
	e.wg.Go(func() {
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

func (e *s3Events) stop() {
	e.cancel()
	e.wg.Wait()
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
		if strings.HasPrefix(rec.EventName, "ObjectCreated:") {
			e.markAnnounced(rec.S3.Bucket.Name, key, rec.S3.Object.ETag)
		}
		for _, n := range e.notifications {
			if !n.matches(rec, key) {
				continue
			}
			r := rec
			r.S3.ConfigurationID = n.function + n.ev.Name
			payload, _ := json.Marshal(s3hook.Event{Records: []s3hook.Record{r}})
			d := &Delivery{Function: n.function, Event: payload, Key: key}
			e.add(d)
			e.wg.Go(func() { e.deliver(n, d, time.Now()) })
		}
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
				if e.wasAnnounced(rec.S3.Bucket.Name, key, mod, rec.S3.Object.ETag) {
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

// announcement is the last event delivered for a key.
type announcement struct {
	at   time.Time
	eTag string
}

func (e *s3Events) markAnnounced(bucket, key, eTag string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.announced[bucket+"/"+key] = announcement{at: time.Now(), eTag: strings.Trim(eTag, `"`)}
}

// wasAnnounced: an event for these bytes (eTag) was seen for the key after
// (or in the same second as, listings having second precision) the object
// was last written. Other bytes posted to the same key within that second
// (a re-posted form) are not announced yet.
func (e *s3Events) wasAnnounced(bucket, key string, modified time.Time, eTag string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.announced[bucket+"/"+key]
	return ok && !a.at.Before(modified.Truncate(time.Second)) && a.eTag == strings.Trim(eTag, `"`)
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
func (e *s3Events) deliver(n notification, d *Delivery, received time.Time) {
	var (
		out []byte
		err error
	)
	for attempt := 0; attempt <= n.retries; attempt++ {
		if attempt > 0 {
			wait := e.backoff[min(attempt-1, len(e.backoff)-1)]
			if time.Since(received)+wait > n.maxAge {
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
		e.update(d, func(d *Delivery) { d.Attempts++; d.Err = err })
		if err == nil {
			e.update(d, func(d *Delivery) { d.Done = true })
			return
		}
		if e.ctx.Err() != nil {
			return
		}
		e.logger.Warn("s3 event delivery failed", "function", n.function, "key", d.Key, "attempt", attempt+1, "err", err)
	}
	file, werr := e.deadLetter(n.function, d, out, err)
	if werr != nil {
		e.logger.Error("dead letter not written", "function", n.function, "err", werr)
	}
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
	return path, os.WriteFile(path, b, 0o644)
}
