package uploadcheck

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/blob"
	"microcert/shared/clock"
	"microcert/shared/doccheck"
	"microcert/shared/domain"
	"microcert/shared/logging"
	"microcert/shared/optimistic"
)

// Store is what the check needs from persistence.
type Store interface {
	GetDocument(ctx context.Context, caseID, docID string) (*domain.Document, error)
	GetCase(ctx context.Context, id string) (*domain.Case, error)
	FindDocumentsByHash(ctx context.Context, sha256 string) ([]domain.Document, error)
	FindDocumentsByPHashBand(ctx context.Context, band int, key string) ([]domain.Document, error)
	Commit(ctx context.Context, ch *domain.Change) error
}

// Objects is what the check needs from object storage.
type Objects interface {
	Head(ctx context.Context, key string) (blob.ObjectInfo, error)
	// Open streams an object with the metadata of the bytes it serves.
	Open(ctx context.Context, key string) (io.ReadCloser, blob.ObjectInfo, error)
	Tag(ctx context.Context, key string, tags map[string]string) error
	// CopyIfMatch copies src to dst (with tags) only while src's ETag is
	// etag, else blob.ErrObjectChanged.
	CopyIfMatch(ctx context.Context, src, etag, dst string, tags map[string]string) error
	Delete(ctx context.Context, key string) error
}

// Outcome of one record, for logs and tests.
type Outcome string

const (
	Checked   Outcome = "checked"
	Duplicate Outcome = "duplicate" // same or older sequencer: nothing changed
	Ignored   Outcome = "ignored"   // not ours, unknown document, closed case
	Missing   Outcome = "missing"   // deleted before the check ran: recorded
	// Late: the document was frozen (case submitted) when the upload came:
	// recorded as an audit entry, nothing else changed.
	Late Outcome = "late"
	// Superseded: replaced by a newer upload while being checked; the
	// newer upload's event records its result.
	Superseded Outcome = "superseded"
)

// Checker handles S3 events.
type Checker struct {
	store   Store
	objects Objects
	clock   clock.Clock
	log     *slog.Logger
}

// New builds a Checker.
func New(store Store, objects Objects, clk clock.Clock, log *slog.Logger) *Checker {
	if clk == nil {
		clk = clock.System{}
	}
	return &Checker{store: store, objects: objects, clock: clk, log: log}
}

// Handle processes an S3 event. It returns an error only when a record
// failed for a reason worth retrying (throttling, timeouts): Lambda's async
// retries then run it again, which the sequencer makes safe.
func (c *Checker) Handle(ctx context.Context, ev events.S3Event) error {
	var retry error
	base := logging.ForInvocation(ctx, c.log)
	for _, rec := range ev.Records {
		out, err := c.record(ctx, rec)
		log := base.With("key", rec.S3.Object.Key, "sequencer", rec.S3.Object.Sequencer, "outcome", string(out.outcome),
			"bodyRead", out.bodyRead, "status", string(out.status))
		if err != nil {
			log.Warn("document check failed", "kind", domain.KindOf(err).String(), "err", err)
			retry = err
			continue
		}
		log.Info("document check")
	}
	return retry
}

// Process is Handle for one record, returning its outcome (tests).
func (c *Checker) Process(ctx context.Context, rec events.S3EventRecord) (Outcome, error) {
	r, err := c.record(ctx, rec)
	return r.outcome, err
}

// result is what happened to one record, for the log line.
type result struct {
	outcome  Outcome
	bodyRead bool // whether the object's content was read at all
	status   domain.DocStatus
}

func (c *Checker) record(ctx context.Context, rec events.S3EventRecord) (result, error) {
	r, read, status, err := c.process(ctx, rec)
	return result{outcome: r, bodyRead: read, status: status}, err
}

func (c *Checker) process(ctx context.Context, rec events.S3EventRecord) (Outcome, bool, domain.DocStatus, error) {
	if !strings.HasPrefix(rec.EventName, "ObjectCreated:") {
		return Ignored, false, "", nil
	}
	key, err := url.QueryUnescape(rec.S3.Object.Key)
	if err != nil {
		return Ignored, false, "", nil
	}
	caseID, docID, ok := ParseKey(key)
	if !ok {
		return Ignored, false, "", nil
	}
	seq := NormalizeSequencer(rec.S3.Object.Sequencer)
	if seq == "" {
		return Ignored, false, "", nil
	}
	doc, err := c.store.GetDocument(ctx, caseID, docID)
	if domain.IsKind(err, domain.KindNotFound) {
		// An object nobody asked to upload: leave it alone, no retry storm.
		return Ignored, false, "", nil
	}
	if err != nil {
		return "", false, "", err
	}
	if doc.Sequencer != "" && doc.Sequencer >= seq {
		return Duplicate, false, "", nil
	}
	cs, err := c.store.GetCase(ctx, caseID)
	if err != nil {
		if domain.IsKind(err, domain.KindNotFound) {
			return Ignored, false, "", nil
		}
		return "", false, "", err
	}
	if cs.Status == domain.CaseWithdrawn || cs.Status == domain.CaseRejected {
		return Ignored, false, "", nil
	}
	if !cs.AcceptsUpload(doc.DocType) {
		return c.late(ctx, key, rec, doc, seq)
	}
	res, outcome, read, etag, err := c.check(ctx, key, doc)
	if err != nil {
		return "", false, "", err
	}
	// Everything about the content is this upload's: nothing carries over
	// from a result about bytes posted before.
	doc.ReusedByOthers, doc.PHash, doc.PHashBands, doc.Similar, doc.Notes = false, "", nil, nil, res.Notes
	if outcome == Checked && res.SHA256 != "" {
		if reused, err := c.reusedElsewhere(ctx, res.SHA256, doc.EnterpriseID); err != nil {
			return "", false, "", err
		} else if reused {
			doc.ReusedByOthers = true
		}
	}
	if outcome == Checked && !res.PHash.IsZero() {
		similar, err := c.similarElsewhere(ctx, res, doc)
		if err != nil {
			return "", false, "", err
		}
		doc.PHash, doc.PHashBands, doc.Similar = res.PHash.String(), res.PHash.BandKeys(), similar
		if len(similar) > 0 {
			ids := make([]string, len(similar))
			for i, s := range similar {
				ids[i] = s.DocumentID
			}
			doc.Notes = append(doc.Notes, doccheck.NoteNearDuplicate(ids))
		}
	}
	now := c.clock.Now()
	doc.Status = domain.DocFailed
	if res.Passed {
		doc.Status = domain.DocPassed
	}
	doc.Findings, doc.Metrics, doc.SHA256, doc.Sequencer, doc.CheckedAt = res.Findings, res.Metrics, res.SHA256, seq, &now
	doc.CheckedKey = ""
	if outcome == Checked && read {
		// Keep exactly the bytes that were checked where no form can
		// write: the copy is made only if the upload still has the ETag of
		// what was read.
		dst := domain.CheckedKey(doc.CaseID, doc.ID, seq)
		err := c.objects.CopyIfMatch(ctx, key, etag, dst, map[string]string{"check": string(doc.Status)})
		switch {
		case errors.Is(err, blob.ErrObjectChanged), errors.Is(err, blob.ErrObjectGone):
			// Replaced (or deleted) since it was read: the newer upload's
			// own event checks what is there now.
			return Superseded, read, "", nil
		case err != nil:
			return "", false, "", err
		}
		doc.CheckedKey = dst
	}
	if outcome == Checked {
		// Tag first: it is idempotent, and the conditional write below
		// decides whether this result is the one that counts.
		if err := c.objects.Tag(ctx, key, map[string]string{"check": string(doc.Status)}); err != nil && !errors.Is(err, blob.ErrObjectGone) {
			return "", false, "", err
		}
	}
	if err := c.commit(ctx, doc, cs); err != nil {
		switch {
		case errors.Is(err, errFrozen):
			// Submitted while this upload was being checked: it came too
			// late after all.
			c.dropCopy(ctx, doc.CheckedKey)
			return c.late(ctx, key, rec, doc, seq)
		case domain.CodeOf(err) == "duplicate":
			stored, gerr := c.store.GetDocument(ctx, doc.CaseID, doc.ID)
			if gerr == nil && c.ours(stored, doc) {
				// Our own write, whose response was lost and whose
				// retry then failed its condition: it did count.
				return outcome, read, doc.Status, nil
			}
			if gerr == nil && stored.CheckedKey != doc.CheckedKey {
				c.dropCopy(ctx, doc.CheckedKey)
			}
			return Duplicate, read, "", nil
		}
		return "", false, "", err
	}
	return outcome, read, doc.Status, nil
}

// late records an upload that arrived after its document was frozen (the
// case submitted, or sent back without asking for this document): an
// audit entry, a tag, and nothing else. The stored result, the checked
// copy and the case stay as they were; the bucket's lifecycle deletes the
// upload's bytes (every upload expires; only checked copies are kept).
func (c *Checker) late(ctx context.Context, key string, rec events.S3EventRecord, doc *domain.Document, seq string) (Outcome, bool, domain.DocStatus, error) {
	if err := c.objects.Tag(ctx, key, map[string]string{"check": "late"}); err != nil && !errors.Is(err, blob.ErrObjectGone) {
		return "", false, "", err
	}
	at := rec.EventTime
	if at.IsZero() {
		at = c.clock.Now()
	}
	// The event's sequencer names the entry, so a redelivered event finds
	// it already recorded.
	entry := domain.AuditEntry{ID: seq, At: at.UTC(), ActorID: "s3", Role: domain.RoleSystem, Action: AuditLateUpload,
		DocumentID: doc.ID, CaseID: doc.CaseID}
	if err := c.store.Commit(ctx, &domain.Change{Audits: []domain.AuditEntry{entry}}); err != nil && domain.CodeOf(err) != "duplicate" {
		return "", false, "", err
	}
	return Late, false, "", nil
}

// errFrozen stops a commit whose case was submitted meanwhile.
var errFrozen = errors.New("uploadcheck: the document was frozen while it was checked")

// AuditLateUpload is the audit action of an upload after the freeze.
const AuditLateUpload = "document.late_upload"

// dropCopy deletes a checked copy no result points to (best effort: a
// leftover costs storage, never correctness, since reviews read only the
// recorded key).
func (c *Checker) dropCopy(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := c.objects.Delete(ctx, key); err != nil {
		c.log.Warn("unrecorded checked copy left behind", "key", key, "err", err)
	}
}

// ours reports whether the stored result is the one this invocation wrote
// (same sequencer and the same check time, to the nanosecond).
func (c *Checker) ours(stored, doc *domain.Document) bool {
	return stored.Sequencer == doc.Sequencer && stored.CheckedAt != nil && doc.CheckedAt != nil &&
		stored.CheckedAt.Equal(*doc.CheckedAt)
}

// check heads and streams the object through the checks. It reports
// whether the body was read at all, and the ETag of the bytes read.
func (c *Checker) check(ctx context.Context, key string, doc *domain.Document) (doccheck.Result, Outcome, bool, string, error) {
	in := doccheck.Input{DocType: doc.DocType, DeclaredContentType: doc.ContentType}
	info, err := c.objects.Head(ctx, key)
	if errors.Is(err, blob.ErrObjectGone) {
		return goneResult(), Missing, false, "", nil
	}
	if err != nil {
		return doccheck.Result{}, "", false, "", err
	}
	in.Size = info.Size
	if res, ok := doccheck.CheckSize(in); !ok {
		return res, Checked, false, "", nil // over the limit: never read the body
	}
	body, read, err := c.objects.Open(ctx, key)
	if errors.Is(err, blob.ErrObjectGone) {
		return goneResult(), Missing, false, "", nil
	}
	if err != nil {
		return doccheck.Result{}, "", false, "", err
	}
	defer body.Close()
	// The size limit applies to what is read, not to what was headed.
	in.Size = read.Size
	res, err := doccheck.Check(in, body)
	if err != nil {
		return doccheck.Result{}, "", true, "", domain.Wrap(domain.KindUnavailable, "read_failed", err)
	}
	return res, Checked, true, read.ETag, nil
}

func goneResult() doccheck.Result {
	return doccheck.Result{Findings: []domain.Finding{{Code: "object_missing", Message: domain.Text{
		Zh: "文件在检查前已被删除，请重新上传。", En: "The file was deleted before it could be checked; upload it again."}}},
		Metrics: map[string]float64{}}
}

// reusedElsewhere reports whether another enterprise uploaded the same
// content (HashIndex query, never a Scan).
func (c *Checker) reusedElsewhere(ctx context.Context, sha, enterpriseID string) (bool, error) {
	docs, err := c.store.FindDocumentsByHash(ctx, sha)
	if err != nil {
		return false, err
	}
	for _, d := range docs {
		if d.EnterpriseID != enterpriseID {
			return true, nil
		}
	}
	return false, nil
}

// maxSimilar caps the similar documents recorded (closest first).
const maxSimilar = 10

// probeWorkers is how many index queries run at once.
const probeWorkers = 4

// similarElsewhere finds other enterprises' documents whose picture is
// within the near-duplicate distance: one indexed query per probe key of
// each band (multi-index hashing, never a Scan), then the full distance
// on each candidate.
func (c *Checker) similarElsewhere(ctx context.Context, res doccheck.Result, doc *domain.Document) ([]domain.SimilarDocument, error) {
	type probe struct {
		band int
		key  string
	}
	var probes []probe
	for band, keys := range res.PHashProbes {
		for _, k := range keys {
			probes = append(probes, probe{band, doccheck.BandKey(k)})
		}
	}
	found := make([][]domain.Document, len(probes))
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(probeWorkers, len(probes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				found[i], errs[i] = c.store.FindDocumentsByPHashBand(ctx, probes[i].band, probes[i].key)
			}
		}()
	}
	for i := range probes {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []domain.SimilarDocument
	for _, docs := range found {
		for _, d := range docs {
			if d.EnterpriseID == doc.EnterpriseID || seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			h, ok := doccheck.ParsePHash(d.PHash)
			if !ok {
				continue
			}
			if dist := res.PHash.Distance(h); dist <= doccheck.NearDuplicateDistance {
				out = append(out, domain.SimilarDocument{DocumentID: d.ID, CaseID: d.CaseID, EnterpriseID: d.EnterpriseID, Distance: dist})
			}
		}
	}
	slices.SortFunc(out, func(a, b domain.SimilarDocument) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.DocumentID, b.DocumentID))
	})
	return out[:min(len(out), maxSimilar)], nil
}

// commit writes the result and bumps the case (as read before the check)
// in one transaction, through the write path: a concurrent edit of the
// case (version conflict) is retried with a fresh read; a duplicate result
// is final.
func (c *Checker) commit(ctx context.Context, doc *domain.Document, cs *domain.Case) error {
	first := true
	return optimistic.Retry(ctx, func(ctx context.Context) error {
		if !first {
			var err error
			if cs, err = c.store.GetCase(ctx, cs.ID); err != nil {
				return err
			}
			if !cs.AcceptsUpload(doc.DocType) {
				return errFrozen
			}
		}
		first = false
		next := *cs
		next.UpdatedAt = c.clock.Now()
		return c.store.Commit(ctx, &domain.Change{
			Documents: []domain.DocumentWrite{{Document: doc, CheckResult: true}},
			Cases:     []domain.CaseWrite{domain.UpdateCase(cs, &next)},
		})
	})
}

// ParseKey splits uploads/{caseId}/{documentId}.
func ParseKey(key string) (caseID, docID string, ok bool) {
	rest, found := strings.CutPrefix(key, domain.UploadPrefix)
	if !found {
		return "", "", false
	}
	caseID, docID, found = strings.Cut(rest, "/")
	if !found || !domain.ValidID(caseID) || !domain.ValidID(docID) {
		return "", "", false
	}
	return caseID, docID, true
}

// sequencerWidth fits any sequencer S3 has produced (AWS's are 16-18 hex
// digits) with room to spare.
const sequencerWidth = 32

// NormalizeSequencer turns an S3 sequencer into fixed-width upper-case hex,
// so that AWS's ordering rule (left-pad the shorter with zeros, then compare
// as strings) becomes a plain string comparison, also inside a DynamoDB
// condition. Anything that is not hex, or too long, gives "".
func NormalizeSequencer(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" || len(s) > sequencerWidth || strings.Trim(s, "0123456789ABCDEF") != "" {
		return ""
	}
	return strings.Repeat("0", sequencerWidth-len(s)) + s
}
