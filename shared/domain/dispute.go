package domain

import "time"

// Disputes of a registered USCC. Registration proves nothing: whoever
// registers a USCC first holds it, and the real enterprise would be locked
// out for good. A dispute is a case (kind dispute) a claimant opens with a
// new profile of its own, frozen until the dispute is won; it needs the
// same proof as a first application (business license, the legal rep's ID
// card and face verification) and a reviewer decides it from the queue.
// Winning moves the USCC to the claimant's profile in one transaction,
// which also freezes the holder's profile and closes its open cases.
//
// One dispute at a time per USCC: a dispute holds the USCC's lock while it
// is submitted or in review (the claim item's disputeCaseId), so a second
// one cannot be submitted (nor opened) meanwhile (409 dispute_open). Drafts
// hold nothing, so a dispute nobody submits blocks nobody.

// EnterpriseStatus is whether a profile can be worked on.
type EnterpriseStatus string

const (
	EnterpriseActive EnterpriseStatus = "active"
	EnterpriseFrozen EnterpriseStatus = "frozen"
)

// Why a profile is frozen.
const (
	// FrozenDisputePending: a claimant's profile until its dispute is
	// decided; only the dispute case can be worked on.
	FrozenDisputePending = "dispute_pending"
	// FrozenDisputeLost: the profile that held a USCC a dispute took away.
	FrozenDisputeLost = "dispute_lost"
	// FrozenDisputeFailed: a claimant's profile whose dispute was rejected
	// or withdrawn (a new dispute comes with a new profile).
	FrozenDisputeFailed = "dispute_failed"
)

// Frozen reports whether the profile is frozen.
func (e *Enterprise) Frozen() bool { return e != nil && e.Status == EnterpriseFrozen }

// DisputeClaim is what a dispute case claims: a USCC, and the profile
// holding it when the dispute was opened.
type DisputeClaim struct {
	USCC               string
	HolderEnterpriseID string
}

// USCCClaim is the record that a USCC belongs to one profile, and which
// dispute (if any) holds its lock.
type USCCClaim struct {
	USCC          string
	EnterpriseID  string
	DisputeCaseID string
	CreatedAt     time.Time
}

// USCCOp is a change of a USCC claim.
type USCCOp string

const (
	// USCCLock: the dispute CaseID takes the lock (it may hold it already:
	// a resubmission); fails with dispute_open while another holds it.
	USCCLock USCCOp = "lock"
	// USCCUnlock: the dispute CaseID gives the lock up.
	USCCUnlock USCCOp = "unlock"
	// USCCTransfer: the dispute CaseID, holding the lock, won: the USCC
	// moves to NewHolder and the lock is released.
	USCCTransfer USCCOp = "transfer"
)

// USCCClaimWrite changes the claim of USCC, on condition that Holder still
// holds it (and, but for a lock, that CaseID holds the lock).
type USCCClaimWrite struct {
	USCC      string
	Op        USCCOp
	Holder    string
	CaseID    string
	NewHolder string
	At        time.Time
}

// ErrDisputeOpen answers a second dispute of a USCC while one is in review.
var ErrDisputeOpen = E(KindConflict, "dispute_open",
	"该统一社会信用代码已有一项争议正在审核，请待其结果后再提起。",
	"A dispute of this USCC is already in review; wait for its outcome.")

// ErrUSCCNotRegistered answers a dispute of a USCC nobody registered: the
// enterprise registers it directly.
var ErrUSCCNotRegistered = E(KindConflict, "uscc_not_registered",
	"该统一社会信用代码尚未被注册，请直接创建企业资料。",
	"No profile holds this USCC: register the enterprise directly.")

// ErrAdminDecisionRequired answers a reviewer approving a dispute against
// a profile that holds a certification in force: only an admin decides it.
var ErrAdminDecisionRequired = E(KindForbidden, "admin_decision_required",
	"被争议的企业持有有效认证，须由平台管理员裁决。",
	"The disputed profile holds a certification in force: only an admin may decide this dispute.")

// Locked reports whether a dispute case holds its USCC's lock in state s:
// while a reviewer has it (submitted or in review).
func disputeLocked(s CaseStatus) bool { return s == CaseSubmitted || s == CaseInReview }

// DisputeLockWrites are the writes of a dispute case's USCC lock when the
// case moves from prev to next: taken on submission, given up when the
// case leaves review for anything but approval (which transfers the USCC
// instead: the decision adds that write).
func DisputeLockWrites(prev, next *Case, at time.Time) []USCCClaimWrite {
	if next.Kind != KindDispute || next.Dispute == nil {
		return nil
	}
	w := USCCClaimWrite{USCC: next.Dispute.USCC, Holder: next.Dispute.HolderEnterpriseID, CaseID: next.ID, At: at}
	switch was, is := disputeLocked(prev.Status), disputeLocked(next.Status); {
	case !was && is:
		w.Op = USCCLock
	case was && !is && next.Status != CaseApproved:
		w.Op = USCCUnlock
	default:
		return nil
	}
	return []USCCClaimWrite{w}
}

// disputeItems is what a dispute needs: the same proof of the claimant as
// a first application (the license, the legal rep's ID card, the legal
// rep's own face verification). It is free.
func disputeItems() []string {
	return []string{string(DocBusinessLicense), string(DocLegalRepIDFront), string(DocLegalRepIDBack), ReqFaceVerification}
}

// NoticeDisputeLost is the holder's notification of a dispute it lost
// (the claimant learns the outcome from the decision's notification).
const NoticeDisputeLost = "dispute_lost"

// DisputeLostNotice tells the holder that its USCC went to the claimant.
func DisputeLostNotice(uscc string) (title, body Text) {
	return Text{Zh: "统一社会信用代码争议：资料已冻结", En: "USCC dispute lost: profile frozen"},
		Text{Zh: "经审核，统一社会信用代码 " + uscc + " 归属于提出争议的企业。本企业资料已冻结，处理中的申请已关闭（已支付且未被领取审核的费用将退还）。如有异议，请联系平台客服。",
			En: "After review, the USCC " + uscc + " belongs to the enterprise that disputed it. This profile is frozen and its open cases were closed (fees paid for cases no reviewer had taken are refunded). Contact support if you disagree."}
}

// disputeWonText tells the claimant that the USCC is now its profile's.
func disputeWonText(uscc string) Text {
	return Text{Zh: "统一社会信用代码 " + uscc + " 已归属本企业资料，资料已解冻，现在可以申请认证。",
		En: "The USCC " + uscc + " now belongs to this profile, which is no longer frozen: you can apply for certification."}
}
