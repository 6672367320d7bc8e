package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"microcert/shared/domain"
)

// inQueue reports whether the case belongs on the reviewers' queue.
func inQueue(c *domain.Case) bool {
	return (c.Status == domain.CaseSubmitted || c.Status == domain.CaseInReview) && c.ReviewDueAt != nil
}

// caseItem: pk CASE#<id>, sk A#CASE; GSI1 ENTCASES#<entId>, <createdAt>#<id>
// (the enterprise's cases); QueueIndex QUEUE, <reviewDueAt>#<id> while
// submitted or in review; DueIndex CASE, <due>#<id> while the domain says
// work is pending (Case.PendingWorkAt: deposit deadline, session expiry,
// claim expiry, review SLA).
type caseItem struct {
	PK             string             `dynamodbav:"pk"`
	SK             string             `dynamodbav:"sk"`
	GSI1PK         string             `dynamodbav:"gsi1pk"`
	GSI1SK         string             `dynamodbav:"gsi1sk"`
	QPK            string             `dynamodbav:"qpk,omitempty"`
	QSK            string             `dynamodbav:"qsk,omitempty"`
	DuePK          string             `dynamodbav:"duepk,omitempty"`
	DueSK          string             `dynamodbav:"duesk,omitempty"`
	Entity         string             `dynamodbav:"entity"`
	ID             string             `dynamodbav:"id"`
	EnterpriseID   string             `dynamodbav:"enterpriseId"`
	OpenedBy       string             `dynamodbav:"openedBy"`
	Kind           string             `dynamodbav:"kind"`
	Types          []string           `dynamodbav:"types,omitempty"`
	ViaAgent       bool               `dynamodbav:"viaAgent"`
	AgentID        string             `dynamodbav:"agentId,omitempty"`
	Dispute        *disputeClaimItem  `dynamodbav:"dispute,omitempty"`
	Status         string             `dynamodbav:"status"`
	Version        int                `dynamodbav:"version"`
	CreatedAt      time.Time          `dynamodbav:"createdAt"`
	UpdatedAt      time.Time          `dynamodbav:"updatedAt"`
	SubmittedAt    *time.Time         `dynamodbav:"submittedAt,omitempty"`
	ReviewDueAt    *time.Time         `dynamodbav:"reviewDueAt,omitempty"`
	Fee            feeItem            `dynamodbav:"fee"`
	Payment        *paymentItem       `dynamodbav:"payment,omitempty"`
	Face           *verificationItem  `dynamodbav:"face,omitempty"`
	QR             *verificationItem  `dynamodbav:"qr,omitempty"`
	Deposit        *depositItem       `dynamodbav:"deposit,omitempty"`
	Explanation    string             `dynamodbav:"explanation"`
	Claim          *claimItem         `dynamodbav:"claim,omitempty"`
	LastDecision   *decisionItem      `dynamodbav:"lastDecision,omitempty"`
	ChangeRequests int                `dynamodbav:"changeRequests"`
	Redo           []redoItem         `dynamodbav:"redo,omitempty"`
	ExplanationAt  *time.Time         `dynamodbav:"explanationAt,omitempty"`
	Change         *profileChangeItem `dynamodbav:"change,omitempty"`
	SLABreached    bool               `dynamodbav:"slaBreached"`
	Money          moneyItem          `dynamodbav:"money"`
	DocsExpireAt   *time.Time         `dynamodbav:"documentsExpireAt,omitempty"`
	// ReviewDueRecheckAt: set while reviewDueAt is provisional.
	ReviewDueRecheckAt *time.Time `dynamodbav:"reviewDueRecheckAt,omitempty"`
}

func toCaseItem(c *domain.Case) caseItem {
	var typesList []string
	if c.Types != nil {
		typesList = make([]string, len(c.Types))
		for i, t := range c.Types {
			typesList[i] = string(t)
		}
	}
	it := caseItem{
		PK:           casePK(c.ID),
		SK:           skCase,
		GSI1PK:       entCasesPK(c.EnterpriseID),
		GSI1SK:       createdSK(c.CreatedAt, c.ID),
		Entity:       "case",
		ID:           c.ID,
		EnterpriseID: c.EnterpriseID,
		OpenedBy:     c.OpenedBy,
		Kind:         string(c.Kind),
		Types:        typesList,
		ViaAgent:     c.ViaAgent,
		AgentID:      c.AgentID,
		Dispute:      toDisputeClaim(c.Dispute),
		Status:       string(c.Status),
		Version:      c.Version,
		CreatedAt:    c.CreatedAt.UTC(),
		UpdatedAt:    c.UpdatedAt.UTC(),
		SubmittedAt:  utcp(c.SubmittedAt),
		ReviewDueAt:  utcp(c.ReviewDueAt),
		Fee: feeItem{AmountFen: c.Fee.AmountFen, SubsidyFen: c.Fee.SubsidyFen, PayableFen: c.Fee.PayableFen,
			Program: c.Fee.Program, RegionCode: c.Fee.RegionCode, Currency: c.Fee.Currency},
		Payment:        toPayment(c.Payment),
		Face:           toVerification(c.Face),
		QR:             toVerification(c.QR),
		Deposit:        toDeposit(c.Deposit),
		Explanation:    c.Explanation,
		Claim:          toClaim(c.Claim),
		LastDecision:   toDecision(c.LastDecision),
		ChangeRequests: c.ChangeRequests,
		Redo:           toRedo(c.Redo),
		ExplanationAt:  utcp(c.ExplanationAt),
		Change:         toProfileChange(c.Change),
		SLABreached:    c.SLABreached,
		Money:          moneyItem{ReceivedFen: c.Money.ReceivedFen, KeptFen: c.Money.KeptFen},
		DocsExpireAt:   utcp(c.DocumentsExpireAt),
	}
	it.ReviewDueRecheckAt = utcp(c.ReviewDueRecheckAt)
	if inQueue(c) {
		it.QPK, it.QSK = queuePK, keyJoin(ts(*c.ReviewDueAt), c.ID)
	}
	if due := c.PendingWorkAt(); due != nil {
		it.DuePK, it.DueSK = dueCasePK, dueSK(*due, c.ID)
	}
	return it
}

func (it caseItem) domain() domain.Case {
	var typesList []domain.CertType
	if it.Types != nil {
		typesList = make([]domain.CertType, len(it.Types))
		for i, t := range it.Types {
			typesList[i] = domain.CertType(t)
		}
	}
	return domain.Case{
		ID:           it.ID,
		EnterpriseID: it.EnterpriseID,
		OpenedBy:     it.OpenedBy,
		Kind:         domain.CaseKind(it.Kind),
		Types:        typesList,
		ViaAgent:     it.ViaAgent,
		AgentID:      it.AgentID,
		Dispute:      it.Dispute.domain(),
		Status:       domain.CaseStatus(it.Status),
		Version:      it.Version,
		CreatedAt:    it.CreatedAt,
		UpdatedAt:    it.UpdatedAt,
		SubmittedAt:  it.SubmittedAt,
		ReviewDueAt:  it.ReviewDueAt,
		Fee: domain.Fee{AmountFen: it.Fee.AmountFen, SubsidyFen: it.Fee.SubsidyFen, PayableFen: it.Fee.PayableFen,
			Program: it.Fee.Program, RegionCode: it.Fee.RegionCode, Currency: it.Fee.Currency},
		Payment:           it.Payment.domain(),
		Face:              it.Face.domain(),
		QR:                it.QR.domain(),
		Deposit:           it.Deposit.domain(),
		Explanation:       it.Explanation,
		Claim:             it.Claim.domain(),
		LastDecision:      it.LastDecision.domain(),
		ChangeRequests:    it.ChangeRequests,
		Redo:              fromRedo(it.Redo),
		ExplanationAt:     it.ExplanationAt,
		Change:            it.Change.domain(),
		SLABreached:       it.SLABreached,
		DocumentsExpireAt: it.DocsExpireAt,
		Money:             domain.CaseMoney{ReceivedFen: it.Money.ReceivedFen, KeptFen: it.Money.KeptFen},
		// Set while reviewDueAt is provisional.
		ReviewDueRecheckAt: it.ReviewDueRecheckAt,
	}
}

// disputeClaimItem is a dispute case's claim (what it disputes).
type disputeClaimItem struct {
	USCC               string `dynamodbav:"uscc"`
	HolderEnterpriseID string `dynamodbav:"holderEnterpriseId"`
}

func toDisputeClaim(d *domain.DisputeClaim) *disputeClaimItem {
	if d == nil {
		return nil
	}
	return &disputeClaimItem{USCC: d.USCC, HolderEnterpriseID: d.HolderEnterpriseID}
}

func (it *disputeClaimItem) domain() *domain.DisputeClaim {
	if it == nil {
		return nil
	}
	return &domain.DisputeClaim{USCC: it.USCC, HolderEnterpriseID: it.HolderEnterpriseID}
}

func (s *Store) caseOps(w domain.CaseWrite) ([]op, error) {
	c := w.Case
	if c == nil || c.ID == "" || c.EnterpriseID == "" {
		return nil, internal("case write without id or enterprise")
	}
	return s.entityOps("case", toCaseItem(c), w.Create, c.Version, w.ExpectVersion)
}

// GetCase reads one case (strongly consistent GetItem).
func (s *Store) GetCase(ctx context.Context, id string) (*domain.Case, error) {
	av, err := s.getItem(ctx, casePK(id), skCase)
	if err != nil {
		return nil, err
	}
	return ref(decode(av, "case", caseItem.domain))
}

// ListCases lists an enterprise's cases, newest first (GSI1,
// ENTCASES#<entId>).
func (s *Store) ListCases(ctx context.Context, enterpriseID string, p domain.Page) ([]domain.Case, string, error) {
	spec := cursorSpec{index: indexGSI1, hashAttr: attrGSI1PK, hashValue: entCasesPK(enterpriseID), rangeAttr: attrGSI1SK,
		prefixes: map[string]string{attrPK: prefixCase, attrSK: skCase}}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(entCasesPK(enterpriseID)))
	return s.casePage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1), ScanIndexForward: aws.Bool(false)}, kc, spec, p)
}

// ListQueue lists the reviewers' queue: submitted and in-review cases,
// earliest reviewDueAt first (QueueIndex, QUEUE).
func (s *Store) ListQueue(ctx context.Context, p domain.Page) ([]domain.Case, string, error) {
	spec := cursorSpec{index: indexQueue, hashAttr: attrQPK, hashValue: queuePK, rangeAttr: attrQSK,
		prefixes: map[string]string{attrPK: prefixCase, attrSK: skCase}}
	kc := expression.Key(attrQPK).Equal(expression.Value(queuePK))
	return s.casePage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexQueue)}, kc, spec, p)
}

// DueCases lists cases with pending work due at or before before, earliest
// first (DueIndex, duepk CASE).
func (s *Store) DueCases(ctx context.Context, before time.Time, p domain.Page) ([]domain.Case, string, error) {
	spec := cursorSpec{index: indexDue, hashAttr: attrDuePK, hashValue: dueCasePK, rangeAttr: attrDueSK,
		prefixes: map[string]string{attrPK: prefixCase, attrSK: skCase}}
	kc := expression.Key(attrDuePK).Equal(expression.Value(dueCasePK)).
		And(expression.Key(attrDueSK).LessThanEqual(expression.Value(ts(before) + "#" + hi)))
	return s.casePage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexDue)}, kc, spec, p)
}

func (s *Store) casePage(ctx context.Context, in *dynamodb.QueryInput, kc expression.KeyConditionBuilder, spec cursorSpec, p domain.Page) ([]domain.Case, string, error) {
	items, next, err := s.queryPage(ctx, in, kc, spec, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, "case", caseItem.domain)
	return out, next, err
}
