package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Rules that hold per enterprise (and per bank account) across all of its
// cases, never per case: a limit kept on a case is escaped by opening
// another case.

// EnterpriseState is an enterprise with everything kept per enterprise,
// read together: the profile, its certifications, which case holds each
// open-case slot, and the micro-deposit log.
type EnterpriseState struct {
	Enterprise     *Enterprise
	Certifications []Certification
	// OpenCases maps a slot subject (see Case.SlotSubjects) to the id of
	// the open case that holds it.
	OpenCases map[string]string
	// Deposits is nil until the enterprise's first micro-deposit.
	Deposits *DepositLog
	// Members are the people of the enterprise, owner first (as read for a
	// member; a reviewer's read holds only the reviewer's own membership,
	// if any: see Store.GetEnterpriseStatesAs).
	Members []Member
	// Invitations are the enterprise's invitations still stored (pending,
	// or accepted, revoked or expired until the store drops them).
	Invitations []Invitation
}

// SlotProfile is the slot subject of change cases: one open change of the
// profile at a time. SlotDispute is the dispute case's (a claimant's
// profile has one).
const (
	SlotProfile = "profile"
	SlotDispute = "dispute"
)

// AllSlotSubjects lists every slot subject an enterprise can have (the
// store reads slots by key with it).
func AllSlotSubjects() []string {
	out := make([]string, 0, len(CertTypes)+2)
	for _, t := range CertTypes {
		out = append(out, string(t))
	}
	return append(out, SlotProfile, SlotDispute)
}

// OpenCaseIDs lists the distinct cases holding the enterprise's slots.
func (st *EnterpriseState) OpenCaseIDs() []string {
	var out []string
	for _, s := range AllSlotSubjects() {
		if id, ok := st.OpenCases[s]; ok && !containsString(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SlotSubjects are what an open case of c's kind holds exclusively: each
// certification type it covers, or the profile for a change case. At most
// one open case per (enterprise, subject), so two open cases can never be
// paid for the same type, and approving one never strands the other.
func (c *Case) SlotSubjects() []string {
	switch c.Kind {
	case KindChange:
		return []string{SlotProfile}
	case KindDispute:
		return []string{SlotDispute}
	}
	out := make([]string, 0, len(c.Types))
	for _, t := range c.Types {
		out = append(out, string(t))
	}
	return out
}

// CaseSlot takes (Release false) or frees (Release true) one open-case slot
// of an enterprise for a case. Taking a slot another case holds fails like
// a stale version, so a racing second creation re-reads and is answered
// case_already_open.
type CaseSlot struct {
	EnterpriseID string
	Subject      string
	CaseID       string
	Release      bool
}

// SlotsFor returns the writes that take (or release) every slot of c.
func SlotsFor(c *Case, release bool) []CaseSlot {
	var out []CaseSlot
	for _, s := range c.SlotSubjects() {
		out = append(out, CaseSlot{EnterpriseID: c.EnterpriseID, Subject: s, CaseID: c.ID, Release: release})
	}
	return out
}

// SlotReleases are the releases of c's slots that are c's to give back.
// A subject the state shows held by another open case is left to that
// case: data written before slots existed can hold two open cases on one
// subject (the backfill reports them), and closing the older one must not
// fail for good on the newer one's slot. With no state (nil) every subject
// of c is released, on the store's condition that the slot is free or c's.
func (st *EnterpriseState) SlotReleases(c *Case) []CaseSlot {
	all := SlotsFor(c, true)
	if st == nil {
		return all
	}
	out := all[:0]
	for _, s := range all {
		if id, ok := st.OpenCases[s.Subject]; ok && id != c.ID {
			continue
		}
		out = append(out, s)
	}
	return out
}

// ErrCaseAlreadyOpen answers the opening of a case whose subject (a type,
// or the profile) another open case of the enterprise already covers.
func ErrCaseAlreadyOpen(subject, caseID string) *Error {
	return E(KindConflict, "case_already_open",
		"该企业已有一个处理中的同类申请，请继续该申请或先撤回。",
		"The enterprise already has an open case for this; continue that case or withdraw it first.").
		With("subject", subject).With("openCaseId", caseID)
}

// CheckSlotsFree reports case_already_open when an open case holds any
// subject of c.
func (st *EnterpriseState) CheckSlotsFree(c *Case) error {
	for _, s := range c.SlotSubjects() {
		if id, ok := st.OpenCases[s]; ok && id != c.ID {
			return ErrCaseAlreadyOpen(s, id)
		}
	}
	return nil
}

// DepositLog is the enterprise's record of micro-deposits, kept across
// cases: every deposit started in the rate window, and the cool-down after
// a lock. It is versioned: two deposits started at once on two cases
// cannot both pass the limit.
type DepositLog struct {
	EnterpriseID string
	// Starts within the last rules.DepositWindow, oldest first.
	Starts []DepositStart
	// LockedUntil: after a deposit locked (too many wrong amounts), no new
	// deposit starts and the enterprise cannot switch to the no-account
	// path before this time.
	LockedUntil *time.Time
	Version     int
}

// DepositStart is one micro-deposit sent.
type DepositStart struct {
	At           time.Time
	CaseID       string
	AccountLast4 string
}

// NextDepositAt is the earliest time a new micro-deposit may be started
// (now if one may start now): at most r.DepositsPerWindow in any
// r.DepositWindow, and none before a lock's cool-down ends.
func (l *DepositLog) NextDepositAt(now time.Time, r Rules) time.Time {
	if l == nil {
		return now
	}
	at := now
	if l.LockedUntil != nil && l.LockedUntil.After(at) {
		at = *l.LockedUntil
	}
	var recent []time.Time
	for _, s := range l.Starts {
		if s.At.After(now.Add(-r.DepositWindow)) {
			recent = append(recent, s.At)
		}
	}
	if len(recent) >= r.DepositsPerWindow {
		// The window frees a place when its oldest counted start leaves.
		free := recent[len(recent)-r.DepositsPerWindow].Add(r.DepositWindow)
		if free.After(at) {
			at = free
		}
	}
	return at
}

// Locked reports whether a lock's cool-down is in force at now.
func (l *DepositLog) Locked(now time.Time) bool {
	return l != nil && l.LockedUntil != nil && now.Before(*l.LockedUntil)
}

// WithStart returns the log after a deposit started at now (starts older
// than the window dropped).
func (l *DepositLog) WithStart(enterpriseID string, s DepositStart, r Rules) DepositLog {
	var out DepositLog
	if l != nil {
		out = *l
	}
	out.EnterpriseID = enterpriseID
	out.Starts = nil
	if l != nil {
		for _, x := range l.Starts {
			if x.At.After(s.At.Add(-r.DepositWindow)) {
				out.Starts = append(out.Starts, x)
			}
		}
	}
	out.Starts = append(out.Starts, s)
	return out
}

// WithLock returns the log after a deposit locked at now.
func (l *DepositLog) WithLock(enterpriseID string, now time.Time, r Rules) DepositLog {
	var out DepositLog
	if l != nil {
		out = *l
	}
	out.EnterpriseID = enterpriseID
	until := now.Add(r.DepositLockCooldown)
	out.LockedUntil = &until
	return out
}

// ErrDepositLimit answers a micro-deposit that may not start yet, with the
// time it may and the way forward.
func ErrDepositLimit(next time.Time, r Rules) *Error {
	return E(KindConflict, "deposit_limit_reached",
		fmt.Sprintf("打款验证次数已达上限（每%d天最多%d次，锁定后需等待）。可在 nextDepositAt 之后重新发起；若企业确无对公账户，可改为法定代表人扫码验证并上传经营场所视频。",
			int(r.DepositWindow.Hours()/24), r.DepositsPerWindow),
		fmt.Sprintf("No new micro-deposit can be started yet (at most %d in %d days, and none during a lock's cool-down). Start one after nextDepositAt; if the enterprise really has no corporate account, use the legal representative's QR verification with a video of the premises instead.",
			r.DepositsPerWindow, int(r.DepositWindow.Hours()/24))).
		With("nextDepositAt", next.UTC())
}

// DepositLogWrite creates or updates the enterprise's deposit log.
type DepositLogWrite struct {
	Log           *DepositLog
	Create        bool
	ExpectVersion int
}

// SaveDepositLog returns the write of next, the successor of prev (nil
// when the enterprise had none).
func SaveDepositLog(prev *DepositLog, next DepositLog) DepositLogWrite {
	if prev == nil {
		next.Version = 1
		return DepositLogWrite{Log: &next, Create: true}
	}
	next.Version = NextVersion(prev.Version)
	return DepositLogWrite{Log: &next, ExpectVersion: prev.Version}
}

// RegisteredNameKey is a registered name as compared with a bank account's
// holder name: full-width forms folded to half-width (（） -> (), ＡＢ ->
// AB), every kind of space dropped, Latin letters upper-cased. Banks print
// 有限公司 names with either bracket width and with or without spaces.
func RegisteredNameKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\u3000' || unicode.IsSpace(r):
			continue
		case r >= '\uFF01' && r <= '\uFF5E': // full-width ASCII forms
			r -= 0xFEE0
		case r == '【' || r == '〔':
			r = '['
		case r == '】' || r == '〕':
			r = ']'
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// SameRegisteredName reports whether an account holder name is the
// enterprise's registered name.
func SameRegisteredName(accountName, enterpriseName string) bool {
	return RegisteredNameKey(accountName) != "" && RegisteredNameKey(accountName) == RegisteredNameKey(enterpriseName)
}

// ErrAccountNameMismatch answers a corporate account whose holder is not
// the enterprise.
var ErrAccountNameMismatch = E(KindInvalid, "account_name_mismatch",
	"对公账户户名必须与企业登记名称一致。", "The account holder name must be the enterprise's registered name.")

// LegalRepFingerprint identifies the legal representative a face
// verification verified (name and ID number): a verification binds to it,
// and a changed legal rep reopens the requirement. Not a secret: it only
// has to differ when the person differs.
func LegalRepFingerprint(rep LegalRep) string {
	h := sha256.Sum256([]byte(strings.TrimSpace(rep.Name) + "\x00" + strings.ToUpper(strings.TrimSpace(rep.IDNumber))))
	return hex.EncodeToString(h[:12])
}

// HoldsCertification reports whether the enterprise holds a certification
// a reviewer vouched for and that still counts: active or overdue (overdue
// ones may have capabilities suspended, but are not over yet).
func HoldsCertification(certs []Certification, now time.Time, r Rules) bool {
	return len(heldTypes(certs, now, r)) > 0
}

func heldTypes(certs []Certification, now time.Time, r Rules) []CertType {
	var out []CertType
	for _, t := range CertTypes {
		for i := range certs {
			if certs[i].Type != t {
				continue
			}
			if st := certs[i].EffectiveStatus(now, r); st == CertActive || st == CertOverdue {
				out = append(out, t)
			}
		}
	}
	return out
}

// CanOpenChange reports whether a change case may be opened, and the types
// it affects: the certified ones. Without a certification there is nothing
// to keep under review, and the profile is corrected directly.
func CanOpenChange(certs []Certification, now time.Time, r Rules) ([]CertType, error) {
	ts := heldTypes(certs, now, r)
	if len(ts) == 0 {
		return nil, E(KindConflict, "change_not_needed",
			"企业尚无有效认证，请直接修改企业资料。", "The enterprise holds no certification: correct the profile directly.")
	}
	return ts, nil
}
