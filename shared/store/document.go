package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"microcert/shared/domain"
)

// documentItem: pk CASE#<caseId>, sk D#<docId>; GSI1 DOC#<docId>, DOC
// (download by id); HashIndex SHA#<hex>, <entId>#<docId> once the content
// hash is known (reuse across enterprises); PHashIndex0..3 ph0..ph3 = the
// perceptual hash's bands, phsk <entId>#<docId>, for image documents
// (similar pictures across enterprises); ttl once the document is marked
// for deletion. seq is the S3 sequencer of the stored check result.
type documentItem struct {
	PK             string             `dynamodbav:"pk"`
	SK             string             `dynamodbav:"sk"`
	GSI1PK         string             `dynamodbav:"gsi1pk"`
	GSI1SK         string             `dynamodbav:"gsi1sk"`
	HPK            string             `dynamodbav:"hpk,omitempty"`
	HSK            string             `dynamodbav:"hsk,omitempty"`
	PH0            string             `dynamodbav:"ph0,omitempty"`
	PH1            string             `dynamodbav:"ph1,omitempty"`
	PH2            string             `dynamodbav:"ph2,omitempty"`
	PH3            string             `dynamodbav:"ph3,omitempty"`
	PHSK           string             `dynamodbav:"phsk,omitempty"`
	TTL            int64              `dynamodbav:"ttl,omitempty"`
	Entity         string             `dynamodbav:"entity"`
	ID             string             `dynamodbav:"id"`
	CaseID         string             `dynamodbav:"caseId"`
	EnterpriseID   string             `dynamodbav:"enterpriseId"`
	DocType        string             `dynamodbav:"docType"`
	ContentType    string             `dynamodbav:"contentType"`
	ContentLength  int64              `dynamodbav:"contentLength"`
	Status         string             `dynamodbav:"status"`
	Findings       []findingItem      `dynamodbav:"findings,omitempty"`
	Metrics        map[string]float64 `dynamodbav:"metrics,omitempty"`
	SHA256         string             `dynamodbav:"sha256,omitempty"`
	ReusedByOthers bool               `dynamodbav:"reusedByOthers"`
	PHash          string             `dynamodbav:"phash,omitempty"`
	Similar        []similarItem      `dynamodbav:"similar,omitempty"`
	Notes          []findingItem      `dynamodbav:"notes,omitempty"`
	Seq            string             `dynamodbav:"seq,omitempty"`
	VersionID      string             `dynamodbav:"versionId,omitempty"`
	CheckedKey     string             `dynamodbav:"checkedKey,omitempty"`
	CreatedAt      time.Time          `dynamodbav:"createdAt"`
	CheckedAt      *time.Time         `dynamodbav:"checkedAt,omitempty"`
	Superseded     bool               `dynamodbav:"superseded"`
}

// apiDocAttrs are the attributes an ordinary (API) document update sets;
// the check result's attributes belong to the check function, the keys and
// the creation facts never change.
var apiDocAttrs = []string{"docType", "contentType", "superseded"}

func toDocumentItem(d *domain.Document, expireAt *time.Time) documentItem {
	it := documentItem{
		PK:             casePK(d.CaseID),
		SK:             docSK(d.ID),
		GSI1PK:         docGSI1PK(d.ID),
		GSI1SK:         gsi1skDoc,
		Entity:         "document",
		ID:             d.ID,
		CaseID:         d.CaseID,
		EnterpriseID:   d.EnterpriseID,
		DocType:        string(d.DocType),
		ContentType:    d.ContentType,
		ContentLength:  d.ContentLength,
		Status:         string(d.Status),
		Findings:       toFindings(d.Findings),
		Metrics:        d.Metrics,
		SHA256:         d.SHA256,
		ReusedByOthers: d.ReusedByOthers,
		PHash:          d.PHash,
		Similar:        toSimilar(d.Similar),
		Notes:          toFindings(d.Notes),
		Seq:            d.Sequencer,
		VersionID:      d.VersionID,
		CheckedKey:     d.CheckedKey,
		CreatedAt:      d.CreatedAt.UTC(),
		CheckedAt:      utcp(d.CheckedAt),
		Superseded:     d.Superseded,
	}
	if d.SHA256 != "" {
		it.HPK, it.HSK = hashPK(d.SHA256), keyJoin(d.EnterpriseID, d.ID)
	}
	if len(d.PHashBands) > 0 {
		for i, p := range []*string{&it.PH0, &it.PH1, &it.PH2, &it.PH3}[:min(phashBands, len(d.PHashBands))] {
			*p = d.PHashBands[i]
		}
		it.PHSK = keyJoin(d.EnterpriseID, d.ID)
	}
	if expireAt != nil {
		it.TTL = epoch(*expireAt)
	}
	return it
}

func (it documentItem) domain() domain.Document {
	var bands []string
	for _, b := range []string{it.PH0, it.PH1, it.PH2, it.PH3} {
		if b != "" {
			bands = append(bands, b)
		}
	}
	return domain.Document{
		ID:             it.ID,
		PHashBands:     bands,
		CaseID:         it.CaseID,
		EnterpriseID:   it.EnterpriseID,
		DocType:        domain.DocType(it.DocType),
		ContentType:    it.ContentType,
		ContentLength:  it.ContentLength,
		Status:         domain.DocStatus(it.Status),
		Findings:       fromFindings(it.Findings),
		Metrics:        it.Metrics,
		SHA256:         it.SHA256,
		ReusedByOthers: it.ReusedByOthers,
		PHash:          it.PHash,
		Similar:        fromSimilar(it.Similar),
		Notes:          fromFindings(it.Notes),
		Sequencer:      it.Seq,
		VersionID:      it.VersionID,
		CheckedKey:     it.CheckedKey,
		CreatedAt:      it.CreatedAt,
		CheckedAt:      it.CheckedAt,
		Superseded:     it.Superseded,
	}
}

// documentOps writes one DocumentWrite:
//   - a create puts the document if its key is free;
//   - a check result replaces the whole item (so hpk/hsk and the result
//     attributes are exactly the new result's) if no result of the same or
//     a later S3 event is stored (seq absent or seq < the new sequencer) and
//     the API did not change the document since the checker read it (same
//     superseded flag, and no ttl unless the write sets one: a document of a
//     closed case is not re-checked); else ErrDuplicate;
//   - any other write updates only the API's attributes (docType,
//     contentType, superseded) and ttl, so it can never undo a check result
//     written meanwhile; ErrVersionConflict if the document does not exist.
//
// ttl is set when ExpireAt is given and kept otherwise (PIPL retention).
func (s *Store) documentOps(w domain.DocumentWrite) ([]op, error) {
	d := w.Document
	if d == nil || d.ID == "" || d.CaseID == "" {
		return nil, internal("document write without id or case")
	}
	it := toDocumentItem(d, w.ExpireAt)
	av, err := marshalItem(it)
	if err != nil {
		return nil, err
	}
	exists := expression.AttributeExists(expression.Name(attrPK))
	var o op
	switch {
	case w.Create:
		o, err = s.putNew(av, domain.ErrVersionConflict)
	case w.CheckResult:
		if d.Sequencer == "" {
			return nil, internal("check result of document without a sequencer")
		}
		newer := expression.AttributeNotExists(expression.Name("seq")).
			Or(expression.Name("seq").LessThan(expression.Value(d.Sequencer)))
		cond := exists.And(newer, expression.Name("superseded").Equal(expression.Value(d.Superseded)))
		if w.ExpireAt == nil {
			cond = cond.And(expression.AttributeNotExists(expression.Name(attrTTL)))
		}
		o, err = s.putIf(av, cond, ErrDuplicate, false)
	default:
		var ub expression.UpdateBuilder
		for _, n := range apiDocAttrs {
			ub = ub.Set(expression.Name(n), expression.Value(av[n]))
		}
		if v, ok := av[attrTTL]; ok {
			ub = ub.Set(expression.Name(attrTTL), expression.Value(v))
		}
		o, err = s.updateOp(itemKey(it.PK, it.SK), ub, exists, domain.ErrVersionConflict, true)
	}
	if err != nil {
		return nil, err
	}
	return []op{o}, nil
}

// GetDocument reads one document of a case (strongly consistent GetItem).
func (s *Store) GetDocument(ctx context.Context, caseID, docID string) (*domain.Document, error) {
	av, err := s.getItem(ctx, casePK(caseID), docSK(docID))
	if err != nil {
		return nil, err
	}
	return ref(decode(av, "document", documentItem.domain))
}

// FindDocument finds a document by its id alone (GSI1 DOC#<docId>; eventually
// consistent, like every index read).
func (s *Store) FindDocument(ctx context.Context, docID string) (*domain.Document, error) {
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(docGSI1PK(docID))).
		And(expression.Key(attrGSI1SK).Equal(expression.Value(gsi1skDoc)))
	in := &dynamodb.QueryInput{IndexName: aws.String(indexGSI1), Limit: aws.Int32(1)}
	if err := s.prepare(in, kc); err != nil {
		return nil, err
	}
	if err := flushHeld(ctx); err != nil {
		return nil, err
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, mapErr(err)
	}
	if len(out.Items) == 0 {
		return nil, domain.ErrNotFound
	}
	return ref(decode(out.Items[0], "document", documentItem.domain))
}

// FindDocumentsByHash lists every document whose content has this SHA-256
// (hex), across enterprises (HashIndex SHA#<hex>).
func (s *Store) FindDocumentsByHash(ctx context.Context, sha256 string) ([]domain.Document, error) {
	kc := expression.Key(attrHPK).Equal(expression.Value(hashPK(sha256)))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexHash)}, kc)
	if err != nil {
		return nil, err
	}
	return decodeAll(items, "document", documentItem.domain)
}

// FindDocumentsByPHashBand lists the documents whose perceptual hash has
// key in band (PHashIndex<band>), across enterprises. The index projects
// only id, caseId, enterpriseId and phash: that is all the returned
// documents carry.
func (s *Store) FindDocumentsByPHashBand(ctx context.Context, band int, key string) ([]domain.Document, error) {
	if band < 0 || band >= phashBands {
		return nil, internal("no perceptual-hash band %d", band)
	}
	kc := expression.Key(phashAttr(band)).Equal(expression.Value(key))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{IndexName: aws.String(phashIndex(band))}, kc)
	if err != nil {
		return nil, err
	}
	return decodeAll(items, "document", documentItem.domain)
}
